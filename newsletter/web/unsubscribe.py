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
from newsletter.compose.editions import SIMPLIFIED, TRADITIONAL
from newsletter.config import SimplifiedEdition
from newsletter.languages import canonical, name_of
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
    if form.get("action") == "edition":  # never a way to leave: a stale page switches back
        return await _switch(app, request, subscriber_id, str(form.get("lang", "")))
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
        "switched": "switched_title",
    }[state]
    offered = _edition_offered(app, member) if state == "ask" else None
    html = app.pages.render(
        "unsubscribe.html.j2",
        lang,
        title_key=title_key,
        state=state,
        may_come_back=member.may_return,
        edition=offered,
        edition_name=name_of(offered or canonical(member.lang or "")),
        offer=app.pages.strings[app.pages.lang(offered)],  # the offer in the script it offers
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


async def _switch(app: Web, request: Request, subscriber_id: int, lang: str) -> HTMLResponse:
    """Read the other script from now on; anything but the two scripts changes nothing."""
    if (
        lang not in (SIMPLIFIED, TRADITIONAL)
        or app.settings.zh_hans_edition == SimplifiedEdition.OFF
    ):
        member = await run_in_threadpool(selfservice.member, app.store, subscriber_id)
        return _invalid(app, request) if member is None else _page(app, request, member, "ask")
    member = await app.writer.run(lambda: selfservice.choose_lang(app.store, subscriber_id, lang))
    if member is None:
        return _invalid(app, request)
    log.info("edition: subscriber %s reads %s", member.id, lang)
    return _page(app, request, member, "switched")


def _edition_offered(app: Web, member: Member | None) -> str | None:
    """The other Chinese script, when the newsletter makes zh-Hans editions: 简体 for readers
    of the Traditional original (or of no language given), 繁體 for readers of 简体."""
    if member is None or app.settings.zh_hans_edition == SimplifiedEdition.OFF:
        return None
    reads = canonical(member.lang) if member.lang else None
    if reads == SIMPLIFIED:
        return TRADITIONAL
    return SIMPLIFIED if reads in (None, TRADITIONAL, "zh") else None


def _invalid(app: Web, request: Request) -> HTMLResponse:
    lang = app.lang(request)
    t = app.pages.strings[lang]
    return notice(app, lang, t.invalid_link_title, t.invalid_link_body, status=404)


routes = [
    Route("/u/{token}", page, methods=["GET"]),
    Route("/u/{token}", act, methods=["POST"]),
    Route("/unsubscribe", info, methods=["GET"]),
]
