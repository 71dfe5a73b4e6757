"""Security headers on every response, as a plain ASGI middleware.

A route may set its own Content-Security-Policy (the email frame must be framable by the
preview page); everything else gets the strict defaults below.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["LOOPBACK_HOSTS", "STRICT_CSP", "SecureHeaders"]

LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
"""Host names of this machine itself: a health check, a test, the proxy on the same host."""

STRICT_CSP = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


class SecureHeaders:
    def __init__(self, app: ASGIApp, csp: str = STRICT_CSP) -> None:
        self.app = app
        self.defaults = {
            "Content-Security-Policy": csp,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            "Cross-Origin-Opener-Policy": "same-origin",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.defaults.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
