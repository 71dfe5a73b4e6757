"""/u/{token}: leave with one click (RFC 8058), or from the page; come back from the page.

GET only shows a page: link scanners open every link in a message. Any POST to a valid
link unsubscribes (that is what Gmail's and Yahoo's one-click button sends, as a form with
List-Unsubscribe=One-Click, no cookie and no CSRF token), except the page's own "subscribe
again" button. A forged, tampered, expired or unknown token gets one neutral 404 page.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from newsletter.audience import selfservice
from newsletter.audience.models import Status
from newsletter.audience.selfservice import Member
from newsletter.web.state import Web, log, web

__all__ = ["routes"]


async def page(request: Request) -> HTMLResponse:
    app = web(request)
    member = await _member(app, request.path_params["token"])
    if member is None:
        return _invalid(app, request)
    state = "ask" if member.status in (Status.SUBSCRIBED, Status.PENDING) else "left"
    return _page(app, request, member, state)


async def act(request: Request) -> HTMLResponse:
    app = web(request)
    claim = app.unsubscribe_tokens.verify(request.path_params["token"])
    subscriber_id = _subscriber_id(claim.subscriber if claim else None)
    if subscriber_id is None:
        return _invalid(app, request)
    form = await request.form()
    if form.get("action") == "resubscribe":
        member = await app.writer.run(lambda: selfservice.resubscribe(app.store, subscriber_id))
        verb = "resubscribed"
    else:
        reason = (
            "one-click (List-Unsubscribe-Post)"
            if form.get("List-Unsubscribe") == "One-Click"
            else "unsubscribe page"
        )
        member = await app.writer.unsubscribe(subscriber_id, reason)
        verb = "unsubscribed"
    if member is None:
        return _invalid(app, request)
    log.info("%s subscriber %s", verb, member.id)
    state = "back" if member.status is Status.SUBSCRIBED else "left"
    return _page(app, request, member, state)


async def info(request: Request) -> HTMLResponse:
    """Where the archive's neutral unsubscribe link leads: how to leave, without a token."""
    app = web(request)
    lang = app.pages.lang(accept=request.headers.get("accept-language"))
    t = app.pages.strings[lang]
    html = app.pages.render(
        "notice.html.j2", lang, title=t.unsubscribe_info_title, body=t.unsubscribe_info_body
    )
    return HTMLResponse(html)


async def _member(app: Web, token: str) -> Member | None:
    claim = app.unsubscribe_tokens.verify(token)
    subscriber_id = _subscriber_id(claim.subscriber if claim else None)
    if subscriber_id is None:
        return None
    return await run_in_threadpool(selfservice.member, app.store, subscriber_id)


def _subscriber_id(key: str | None) -> int | None:
    """Campaign tokens carry the subscriber id; test-send tokens carry other keys."""
    return int(key) if key and key.isdigit() else None


def _page(app: Web, request: Request, member: Member, state: str) -> HTMLResponse:
    lang = app.pages.lang(member.lang, accept=request.headers.get("accept-language"))
    title_key = {
        "ask": "unsubscribe_title",
        "left": "unsubscribed_title",
        "back": "resubscribed_title",
    }[state]
    html = app.pages.render(
        "unsubscribe.html.j2",
        lang,
        title_key=title_key,
        state=state,
        may_come_back=member.status is Status.UNSUBSCRIBED,
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def _invalid(app: Web, request: Request) -> HTMLResponse:
    lang = app.pages.lang(accept=request.headers.get("accept-language"))
    t = app.pages.strings[lang]
    html = app.pages.render(
        "notice.html.j2", lang, title=t.invalid_link_title, body=t.invalid_link_body
    )
    return HTMLResponse(html, status_code=404, headers={"Cache-Control": "no-store"})


routes = [
    Route("/u/{token}", page, methods=["GET"]),
    Route("/u/{token}", act, methods=["POST"]),
    Route("/unsubscribe", info, methods=["GET"]),
]
