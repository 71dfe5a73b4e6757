"""/u/{token}: leave with one click (RFC 8058), or from the page; come back from the page.

GET only shows a page: link scanners open every link in a message. Any POST to a valid
link unsubscribes (that is what Gmail's and Yahoo's one-click button sends, as a form with
List-Unsubscribe=One-Click, no cookie and no CSRF token), except the page's own "subscribe
again" button. A forged, tampered, expired or unknown token gets one neutral 404 page.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from newsletter.audience import selfservice
from newsletter.audience.models import Status
from newsletter.audience.selfservice import Leaving, Member
from newsletter.recipients import subscriber_id_of
from newsletter.web.state import Web, client_ip, log, notice, user_agent, web

__all__ = ["routes"]

_STAYING = (Status.SUBSCRIBED, Status.PENDING)


async def page(request: Request) -> HTMLResponse:
    app = web(request)
    subscriber_id = _subscriber(app, request)
    member = None
    if subscriber_id is not None:
        member = await run_in_threadpool(selfservice.member, app.store, subscriber_id)
    if member is None:
        return _invalid(app, request)
    return _page(app, request, member, "ask" if member.status in _STAYING else "left")


async def act(request: Request) -> HTMLResponse:
    app = web(request)
    claim = app.unsubscribe_tokens.verify(request.path_params["token"])
    subscriber_id = subscriber_id_of(claim.subscriber) if claim else None
    if claim is None or subscriber_id is None:
        return _invalid(app, request)
    form = await _form(request)
    if form.get("action") == "resubscribe":
        ip, agent = client_ip(request), user_agent(request)
        member, came_back = await app.writer.run(
            lambda: selfservice.resubscribe(app.store, subscriber_id, ip=ip, user_agent=agent)
        )
        state = "back" if came_back else "left"
    else:
        one_click = form.get("List-Unsubscribe") == "One-Click"
        reason = "one-click (List-Unsubscribe-Post)" if one_click else "unsubscribe page"
        member = await app.writer.unsubscribe(Leaving(subscriber_id, reason, claim.campaign))
        state = "left"
    if member is None:
        return _invalid(app, request)
    if member.status in _STAYING and state == "left":
        state = "ask"  # a pending or subscribed reader pressed "subscribe again"
    log.info("%s: subscriber %s is %s", state, member.id, member.status)
    return _page(app, request, member, state)


async def info(request: Request) -> HTMLResponse:
    """Where the archive's neutral unsubscribe link leads: how to leave, without a token."""
    app = web(request)
    lang = app.lang(request)
    t = app.pages.strings[lang]
    return notice(app, lang, t.unsubscribe_info_title, t.unsubscribe_info_body)


def _subscriber(app: Web, request: Request) -> int | None:
    claim = app.unsubscribe_tokens.verify(request.path_params["token"])
    return subscriber_id_of(claim.subscriber) if claim else None


async def _form(request: Request) -> FormData:
    """The posted form; one that cannot be parsed is still a request to leave."""
    try:
        return await request.form()
    except (HTTPException, MultiPartException):  # Starlette's answers to a malformed body
        return FormData()


def _page(app: Web, request: Request, member: Member, state: str) -> HTMLResponse:
    lang = app.lang(request, member.lang)
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
        may_come_back=member.may_return,
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def _invalid(app: Web, request: Request) -> HTMLResponse:
    lang = app.lang(request)
    t = app.pages.strings[lang]
    return notice(app, lang, t.invalid_link_title, t.invalid_link_body, status=404)


routes = [
    Route("/u/{token}", page, methods=["GET"]),
    Route("/u/{token}", act, methods=["POST"]),
    Route("/unsubscribe", info, methods=["GET"]),
]
