"""`newsletter serve`: the app the configured base_url points to.

Unsubscribe (one-click and the page), tracked links, double opt-in sign-up, SendGrid's event
webhook, the web archive and a health check, under strict security headers and body limits. Handlers are
async; database work runs in Starlette's thread pool, one short transaction per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsletter.audience.selfservice import prune_confirmations
from newsletter.audience.store import Store
from newsletter.config import Settings
from newsletter.delivery.events import prune_events
from newsletter.errors import ConfigError
from newsletter.providers import check_transactional
from newsletter.providers.sendgrid_events import SignatureError, load_public_key
from newsletter.render.pages import Pages
from newsletter.tokens import CONFIRM_MAX_AGE
from newsletter.web import archive, clicks, signup, unsubscribe, webhooks
from newsletter.web.headers import LOOPBACK_HOSTS, SecureHeaders
from newsletter.web.limits import BodyLimit
from newsletter.web.state import Web, log, web

__all__ = ["create_app", "refuse_unsafe_settings", "uvicorn_options"]

FORM_LIMIT = 64 * 1024
HOUSEKEEPING_EVERY = 3600.0
WEBHOOK_LIMIT = 8 * 1024 * 1024
"""SendGrid posts up to a few thousand events at a time, about 1 KB each."""


def refuse_unsafe_settings(settings: Settings) -> None:
    """Stop before serving with a secret anyone can read, or an identity from the examples."""
    if settings.uses_example_secret and settings.environment != "development":
        raise ConfigError(
            "secret_key is the public example value: set NEWSLETTER_SECRET_KEY (openssl rand -hex 32) "
            'before serving, or set environment = "development" to try it locally'
        )
    settings.require_real_identity("serving")


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn runs the app: proxy headers only from the configured proxies, quiet."""
    return {
        "access_log": False,  # the app logs each request without tokens or addresses
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": ",".join(settings.trusted_proxies) or None,
        "server_header": False,
        "timeout_graceful_shutdown": 5,
    }


def create_app(settings: Settings, store: Store) -> Starlette:
    pages = Pages.of_site(settings)
    pages.strings  # noqa: B018 - a broken strings file stops startup, not the first request
    app = Starlette(
        routes=[
            *unsubscribe.routes,
            *clicks.routes,
            *signup.routes,
            *archive.routes,
            *webhooks.routes,
            Route("/static/site.css", _stylesheet, methods=["GET"]),
            Route("/healthz", _health, methods=["GET"]),
        ],
        middleware=[
            Middleware(_AccessLog),
            # Only our own names: a foreign Host would be echoed in the archive's slash redirect
            # (an open redirect) and lets a rebinding site read the pages.
            Middleware(
                TrustedHostMiddleware, allowed_hosts=served_hosts(settings), www_redirect=False
            ),
            Middleware(SecureHeaders),
            Middleware(BodyLimit, default=FORM_LIMIT, per_prefix={"/webhooks/": WEBHOOK_LIMIT}),
        ],
        exception_handlers={Exception: _server_error},
        lifespan=_lifespan,
    )
    app.state.web = Web(settings, store, pages)
    check_transactional(settings)
    _check_webhook_key(settings)
    return app


def served_hosts(settings: Settings) -> list[str]:
    """The Host names `serve` answers to: base_url's, the allowed_hosts setting, loopback."""
    own = urlsplit(settings.base_url).hostname or ""
    return list(dict.fromkeys([own, *settings.allowed_hosts, *LOOPBACK_HOSTS]))


def _check_webhook_key(settings: Settings) -> None:
    key = settings.sendgrid_webhook_public_key
    if not key:
        log.warning("no sendgrid_webhook_public_key: /webhooks/sendgrid answers 403 to everything")
        return
    try:
        load_public_key(key)
    except SignatureError as exc:
        raise ConfigError(
            f"sendgrid_webhook_public_key: {exc}; paste the key SendGrid shows under Mail Settings > Signed Event Webhook"
        ) from None


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    task = asyncio.create_task(_housekeeping(app.state.web))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await app.state.web.clicks.close()


async def _housekeeping(app: Web) -> None:
    """Hourly: forget event ids past SendGrid's 72-hour retries and unconfirmed sign-ups."""
    expiry = dt.timedelta(seconds=CONFIRM_MAX_AGE)
    while True:
        try:
            events = await app.writer.run(lambda: prune_events(app.store))
            signups = await app.writer.run(lambda: prune_confirmations(app.store, expiry))
            log.info(
                "housekeeping: %d old event ids, %d unconfirmed sign-ups deleted", events, signups
            )
        except Exception as exc:  # try again next hour; the app keeps serving
            log.error("housekeeping failed: %s", type(exc).__name__)
        await asyncio.sleep(HOUSEKEEPING_EVERY)


async def _stylesheet(request: Request) -> Response:
    css = web(request).pages.stylesheet()
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


async def _health(request: Request) -> Response:
    store = web(request).store
    try:
        await run_in_threadpool(_ping, store)
    except Exception:  # whatever failed, the answer is "not healthy", without details
        return JSONResponse({"status": "database unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def _ping(store: Store) -> None:
    with store.read() as conn:
        conn.execute(text("SELECT 1"))


async def _server_error(request: Request, exc: Exception) -> Response:
    """A plain 500; uvicorn logs the traceback (database errors carry no parameters)."""
    return PlainTextResponse("something went wrong; please try again later\n", status_code=500)


class _AccessLog:
    """One line per request with the route's pattern, never its tokens, and no addresses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.logger = logging.getLogger("newsletter.web.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.logger.info("%s %s %d %.1fms", scope["method"], _route(scope), status, elapsed)


def _route(scope: Scope) -> str:
    """The matched route's pattern (/u/{token}), or the first path segment."""
    route = scope.get("route")
    pattern = getattr(route, "path", None)
    if isinstance(pattern, str) and pattern:
        return pattern
    return "/" + str(scope.get("path", "/")).lstrip("/").split("/", 1)[0]
