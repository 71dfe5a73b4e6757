"""Abuse limits: requests per key in a sliding window, and a cap on request bodies.

The limiter lives in the process: behind several workers each has its own count, which
still bounds what one address or one IP can make the server send. Keys are hashes, so no
address sits in memory longer than a sign-up takes.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time
from collections import deque
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit", "RateLimiter", "ip_bucket"]


def ip_bucket(address: str | None) -> str:
    """The key an IP is limited under: IPv6 by /64, what one household or server gets."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds for each key."""

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window = limit, window
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count a hit and say whether it is within the limit."""
        digest = hashlib.blake2b(key.encode("utf-8"), digest_size=16).hexdigest()
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(digest, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > 100_000:
                self._forget_idle(now)
            return True

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]
        for key in idle:
            del self._hits[key]


class BodyLimit:
    """413 for a request body over its path's limit, counted as it arrives (chunked too)."""

    def __init__(self, app: ASGIApp, default: int, per_prefix: dict[str, int]) -> None:
        self.app = app
        self.default = default
        self.per_prefix = per_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = next(
            (n for prefix, n in self.per_prefix.items() if scope["path"].startswith(prefix)),
            self.default,
        )
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await _too_large(send)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": b"request body too large\n"})
