"""/archive/, /archive/{slug}[/{edition}] and its Atom feeds: the web version of every sent issue."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from newsletter.errors import NewsletterError
from newsletter.web.site import atom_feed, feed_langs, index_page, sent_issues
from newsletter.web.state import log, web

__all__ = ["routes"]

ISSUE_CSP = (
    "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_CACHE_SECONDS = "public, max-age=300"


async def index(request: Request) -> HTMLResponse:
    app = web(request)
    issues = await run_in_threadpool(sent_issues, app.store)
    lang = app.lang(request)
    return HTMLResponse(
        index_page(issues, app.pages, lang), headers={"Cache-Control": _CACHE_SECONDS}
    )


async def feed(request: Request) -> Response:
    app = web(request)
    issues = await run_in_threadpool(sent_issues, app.store)
    lang = request.path_params.get("lang")
    if lang is not None and lang not in feed_langs(issues):
        return Response("no such feed\n", status_code=404, media_type="text/plain")
    return Response(
        atom_feed(issues, app.settings, lang),
        media_type="application/atom+xml; charset=utf-8",
        headers={"Cache-Control": _CACHE_SECONDS},
    )


async def issue(request: Request) -> Response:
    app = web(request)
    slug, lang = request.path_params["slug"], request.path_params.get("lang")
    issues = await run_in_threadpool(sent_issues, app.store)
    found = next((i for i in issues if i.slug == slug), None)
    if found is None or (lang is not None and lang == found.lang):
        return Response("no such issue\n", status_code=404, media_type="text/plain")
    if found.edition(lang) is None:
        return Response("no such edition\n", status_code=404, media_type="text/plain")
    try:
        html = await run_in_threadpool(app.rendered_issues.get, found, lang)
    except NewsletterError as exc:
        log.error("archive %s: %s", slug, exc)
        return Response("this issue cannot be shown\n", status_code=503, media_type="text/plain")
    return HTMLResponse(
        html, headers={"Content-Security-Policy": ISSUE_CSP, "Cache-Control": _CACHE_SECONDS}
    )


routes = [
    Route("/archive/", index, methods=["GET"]),
    Route("/archive/feed.xml", feed, methods=["GET"]),
    Route("/archive/feed.{lang}.xml", feed, methods=["GET"]),
    Route("/archive/{slug}", issue, methods=["GET"]),
    Route("/archive/{slug}/", issue, methods=["GET"]),
    Route("/archive/{slug}/{lang}", issue, methods=["GET"]),
    Route("/archive/{slug}/{lang}/", issue, methods=["GET"]),
]
