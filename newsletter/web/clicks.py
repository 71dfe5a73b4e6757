"""/l/{link} and /l/{link}/{reader}: a tracked link, counted and redirected.

The token is checked first (a forged or altered one gets the neutral 404 page); the target is
the link at that position in the campaign's stored issue, so nothing in the request decides
where the redirect leads. Any request that passes is redirected, a machine's too (a link
checker must not see a dead link), and counted with the reason it looks like a machine's, if
any. Clicks are written in groups a fraction of a second later, off the request's path.
"""

from __future__ import annotations

import datetime as dt
import time

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from newsletter.delivery.clicks import Click, Machine
from newsletter.recipients import subscriber_id_of
from newsletter.web.clicklog import machine_agent
from newsletter.web.limits import ip_bucket
from newsletter.web.state import Web, client_ip, notice, web

__all__ = ["routes"]


async def follow(request: Request) -> Response:
    app = web(request)
    reader = request.path_params.get("reader")
    claim = app.click_tokens.verify(request.path_params["link"], reader)
    targets = None if claim is None else await app.link_targets.get(claim.campaign)
    if claim is None or targets is None or claim.position >= len(targets):
        lang = app.lang(request)
        t = app.pages.strings[lang]
        return notice(app, lang, t.invalid_link_title, t.invalid_link_body, status=404)
    subscriber = None if claim.subscriber is None else subscriber_id_of(claim.subscriber)
    who = str(subscriber) if subscriber is not None else ip_bucket(client_ip(request))
    app.clicks.add(
        Click(
            claim.campaign,
            claim.position,
            subscriber,
            dt.datetime.now(dt.UTC),
            _machine(app, request, claim.campaign, who, claim.position),
        )
    )
    return RedirectResponse(
        targets[claim.position],
        status_code=302,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _machine(app: Web, request: Request, campaign: str, who: str, position: int) -> Machine | None:
    burst = app.bursts.is_burst(campaign, who, position, time.monotonic())
    if request.method == "HEAD":
        return Machine.HEAD
    if machine_agent(request.headers.get("user-agent")):
        return Machine.AGENT
    return Machine.BURST if burst else None


routes = [
    Route("/l/{link}", follow, methods=["GET", "HEAD"]),
    Route("/l/{link}/{reader}", follow, methods=["GET", "HEAD"]),
]
