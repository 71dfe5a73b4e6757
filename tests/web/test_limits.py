"""Abuse limits: one address, household or script cannot make the server do unbounded work."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from newsletter.web.limits import BodyLimit, RateLimiter, ip_bucket
from tests.web.conftest import serving


def test_an_ipv6_household_is_one_bucket_and_ipv4_addresses_are_their_own() -> None:
    assert ip_bucket("2001:db8:1:2::a") == ip_bucket("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert ip_bucket("2001:db8:1:3::a") != ip_bucket("2001:db8:1:2::a")
    assert ip_bucket("192.0.2.1") != ip_bucket("192.0.2.2")
    assert ip_bucket(None) == "unknown"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_counts_per_key_within_a_sliding_window() -> None:
    clock = Clock()
    limiter = RateLimiter(3, 60, clock=clock)
    assert [limiter.allow("a@example.com") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b@example.com")  # another key has its own count
    clock.now += 59
    assert not limiter.allow("a@example.com")
    clock.now += 1.5  # the first hits have left the window
    assert limiter.allow("a@example.com")


def _limited(limit: int) -> Starlette:
    """Mounted as the web app mounts it: inside Starlette's error handling, outside the routes."""

    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(len(await request.body())))

    return Starlette(
        routes=[Route("/hook", echo, methods=["POST"])],
        middleware=[Middleware(BodyLimit, default=10_000, per_prefix={"/hook": limit})],
    )


def test_a_body_over_its_paths_limit_is_refused_declared_or_streamed() -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(5):
            yield b"x" * 30

    with serving(_limited(100)) as url, httpx.Client(base_url=url) as client:
        assert client.post("/hook", content=b"x" * 100).text == "100"
        assert client.post("/hook", content=b"x" * 101).status_code == 413
        assert client.post("/hook", content=chunks()).status_code == 413
