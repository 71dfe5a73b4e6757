"""The preview's web app: the page, the email in its frames, live reload and test sends.

Bound to loopback, it still refuses other Host headers (DNS rebinding) and wants the page's
token on the send-test form, so another website open in the same browser cannot send mail.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import json
import secrets
from collections.abc import AsyncIterator

from anyio import to_thread
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from newsletter.compose.editions import SIMPLIFIED
from newsletter.compose.script import AMBIGUOUS
from newsletter.config import ClickTracking
from newsletter.delivery.testsend import send_test
from newsletter.errors import NewsletterError
from newsletter.languages import name_of
from newsletter.preview.blocked import images_off, links
from newsletter.preview.darkmode import forced_dark, own_dark
from newsletter.preview.editions import marked
from newsletter.preview.inbox import snippet
from newsletter.preview.session import PreviewSession, Snapshot
from newsletter.preview.watch import watch
from newsletter.qa.build import Checked
from newsletter.qa.size import CLIP_LIMIT
from newsletter.render.issue import Editions
from newsletter.render.tracking import tracked_links
from newsletter.web.headers import LOOPBACK_HOSTS, SecureHeaders

__all__ = ["create_app"]

HEARTBEAT_SECONDS = 15.0
SCHEMES = {"light": lambda html: html, "dark": own_dark, "forced": forced_dark}
EMAIL_CSP = (
    "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'"
)

_pages = Environment(
    loader=PackageLoader("newsletter.preview", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def create_app(session: PreviewSession, *, hosts: list[str] | None = None) -> Starlette:
    """The app for one article; ``hosts`` are the Host names accepted (loopback by default)."""
    token = secrets.token_urlsafe(24)

    async def page(request: Request) -> HTMLResponse:
        return _html("page.html.j2", _context(session.snapshot, token))

    async def report(request: Request) -> HTMLResponse:
        return _html("report.html.j2", _context(session.snapshot, token))

    async def email_html(request: Request) -> Response:
        checked = session.snapshot.checked
        scheme = SCHEMES.get(request.query_params.get("scheme", "light"), SCHEMES["light"])
        body = (
            scheme(_edition_html(checked, request)) if checked else "<p>Nothing rendered yet.</p>"
        )
        if request.query_params.get("images") == "off":
            body = images_off(body)
        return HTMLResponse(
            body,
            headers={
                "Content-Security-Policy": EMAIL_CSP,
                "X-Frame-Options": "SAMEORIGIN",
                "Cache-Control": "no-store",
            },
        )

    async def download(request: Request) -> Response:
        checked = session.snapshot.checked
        if checked is None:
            return Response("nothing rendered yet", status_code=409)
        return Response(
            checked.sample.html,
            media_type="text/html; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{checked.issue.slug}.html"'},
        )

    async def events(request: Request) -> StreamingResponse:
        return StreamingResponse(
            _event_stream(session, request),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store"},
        )

    async def test_send(request: Request) -> JSONResponse:
        form = await request.form()
        if not secrets.compare_digest(str(form.get("token", "")), token):
            return JSONResponse({"error": "stale page: reload it and send again"}, status_code=403)
        return await _test_send(session.snapshot, str(form.get("addresses", "")))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch(session, stop))
        spam = asyncio.create_task(session.score_spam())
        try:
            yield
        finally:
            stop.set()
            spam.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(watcher, 2)

    return Starlette(
        routes=[
            Route("/", page),
            Route("/report", report),
            Route("/email", email_html),
            Route("/email.html", download),
            Route("/events", events),
            Route("/send-test", test_send, methods=["POST"]),
            Mount("/static", StaticFiles(packages=[("newsletter.preview", "static")])),
        ],
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=hosts or LOOPBACK_HOSTS),
            Middleware(SecureHeaders),
        ],
        lifespan=lifespan,
    )


async def _event_stream(session: PreviewSession, request: Request) -> AsyncIterator[str]:
    """Server-sent events: the render and version numbers after each change, and heartbeats."""
    seen = -1
    while not await request.is_disconnected():
        if await session.wait_for_change(seen, HEARTBEAT_SECONDS):
            snapshot = session.snapshot
            seen = snapshot.version
            data = {"version": snapshot.version, "render": snapshot.render}
            yield f"data: {json.dumps(data)}\n\n"
        else:
            yield ": heartbeat\n\n"


async def _test_send(snapshot: Snapshot, typed: str) -> JSONResponse:
    if snapshot.checked is None or snapshot.settings is None or snapshot.error:
        return JSONResponse({"error": "fix the render error first"}, status_code=409)
    addresses = [line for line in typed.replace(";", "\n").splitlines() if line.strip()]
    checked = snapshot.checked
    settings = snapshot.settings
    try:
        outcomes = await to_thread.run_sync(
            lambda: send_test(
                Editions({lang: issue for lang, (issue, _) in checked.editions.items()}),
                settings,
                addresses,
                dry_run=settings.provider is None,
            )
        )
    except NewsletterError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(
        {
            "provider": settings.provider or "dry run",
            "results": [vars(o) for o in outcomes],
            "editions": len(checked.editions),
        }
    )


def _edition_html(checked: Checked, request: Request) -> str:
    """The sample copy of the edition asked for (the original by default), its converted
    places marked when asked: the source's in the original, the edition's in the zh-Hans one."""
    original, *_ = checked.editions
    lang = request.query_params.get("edition") or original
    _, copy = checked.editions.get(lang, checked.editions[original])
    if request.query_params.get("mark") != "1" or not checked.every_reading:
        return copy.html
    if lang == original:
        return marked(copy.html, (r.source for r in checked.every_reading))
    if lang == SIMPLIFIED:
        return marked(copy.html, (r.reading for r in checked.every_reading))
    return copy.html


def _context(snapshot: Snapshot, token: str) -> dict[str, object]:
    checked, settings = snapshot.checked, snapshot.settings
    context: dict[str, object] = {
        "snapshot": snapshot,
        "token": token,
        "findings": snapshot.findings,
        "clip_limit": CLIP_LIMIT,
    }
    if checked is not None and settings is not None:
        headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(
            checked.sample.data
        )
        context |= {
            "issue": checked.issue,
            "report": checked.report,
            "sample": checked.sample,
            "sender": settings.sender_name,
            "snippet": snippet(checked.sample.html),
            "links": links(checked.sample.html),
            "tracking": settings.click_tracking,
            "tracked": set(tracked_links(checked.issue.html))
            if settings.click_tracking != ClickTracking.OFF
            else set(),
            "headers": [(name, str(value)) for name, value in headers.items()],
            "editions": list(checked.editions),
            "readings": checked.every_reading,
            "to_review": set(checked.readings),
            "ambiguous": AMBIGUOUS,
            "name_of": name_of,
            "provider": settings.provider or "dry run (no provider configured)",
        }
    return context


def _html(template: str, context: dict[str, object]) -> HTMLResponse:
    return HTMLResponse(
        _pages.get_template(template).render(context), headers={"Cache-Control": "no-store"}
    )
