"""/subscribe and /confirm/{token}: double opt-in sign-up.

The form carries a CSRF token tied to a cookie, a honeypot field and per-IP limits. Every
accepted form gets the same "check your inbox" answer, whether the address was new, already
subscribed or suppressed, and the email goes out after the answer, so neither the words nor
the timing tell who is on the list. Confirming is a POST from the page the link opens, so a
mail scanner that opens the link subscribes nobody.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from newsletter.audience import selfservice
from newsletter.audience.addresses import InvalidAddress, normalize
from newsletter.audience.selfservice import Invitation, SignupRequest
from newsletter.providers import send_transactional
from newsletter.providers.base import Sent
from newsletter.render.confirmation import confirmation_message
from newsletter.tokens import CONFIRM_MAX_AGE, CSRF_MAX_AGE
from newsletter.web.state import Web, address_hash, log, web

__all__ = ["routes"]

CSRF_COOKIE = "nl_csrf"
FORM_NAME = "web form /subscribe"


async def form(request: Request) -> HTMLResponse:
    app = web(request)
    lang = app.pages.lang(request.query_params.get("lang"), accept=_accept(request))
    return _form(app, lang)


async def submit(request: Request) -> HTMLResponse:
    app = web(request)
    data = await request.form()
    lang = app.pages.lang(_field(data, "lang"), accept=_accept(request))
    t = app.pages.strings[lang]
    if not _csrf_ok(app, request, data):
        return _form(app, lang, data, t.form_expired, status=403)
    if not app.signups_per_ip.allow(_client(request) or "unknown"):
        return _notice(app, lang, t.subscribe_title, t.too_many, status=429)
    try:
        address = normalize(_field(data, "email"))
    except InvalidAddress:
        return _form(app, lang, data, t.invalid_email, status=400)
    if _field(data, "consent") != "yes":
        return _form(app, lang, data, t.consent_required, status=400)
    answer = _notice(
        app, lang, t.check_inbox_title, t.check_inbox_body.replace("{email}", address.email)
    )
    if _field(data, "website"):  # the honeypot: a person never sees this field
        log.info("sign-up honeypot filled from %s", address_hash(address.email))
        return answer
    signup = SignupRequest(
        address=address,
        name=_field(data, "name")[:200] or None,
        lang=lang,
        consent_text=t.consent_text,
        form=FORM_NAME,
        ip=_client(request),
        user_agent=request.headers.get("user-agent", "")[:500] or None,
    )
    answer.background = BackgroundTask(_sign_up, app, signup)
    return answer


async def confirm_page(request: Request) -> HTMLResponse:
    app = web(request)
    lang = app.pages.lang(request.query_params.get("lang"), accept=_accept(request))
    if app.confirm_tokens.verify(request.path_params["token"]) is None:
        t = app.pages.strings[lang]
        return _notice(app, lang, t.confirm_title, t.confirm_invalid_body, status=404)
    return HTMLResponse(
        app.pages.render("confirm.html.j2", lang, title_key="confirm_title"),
        headers={"Cache-Control": "no-store"},
    )


async def confirm(request: Request) -> HTMLResponse:
    app = web(request)
    lang = app.pages.lang(request.query_params.get("lang"), accept=_accept(request))
    nonce = app.confirm_tokens.verify(request.path_params["token"])
    member = None
    if nonce is not None:
        member = await app.writer.run(
            lambda: selfservice.confirm(
                app.store,
                nonce,
                max_age=dt.timedelta(seconds=CONFIRM_MAX_AGE),
                ip=_client(request),
                user_agent=request.headers.get("user-agent", "")[:500] or None,
            )
        )
    if member is None:
        t = app.pages.strings[lang]
        return _notice(app, lang, t.confirm_title, t.confirm_invalid_body, status=404)
    lang = app.pages.lang(member.lang, lang)
    t = app.pages.strings[lang]
    log.info("confirmed subscriber %s", member.id)
    return _notice(app, lang, t.confirmed_title, t.confirmed_body)


async def _sign_up(app: Web, signup: SignupRequest) -> None:
    """After the answer: record the sign-up and, where one is due, send the confirmation."""
    who = address_hash(signup.address.email)
    if not app.mails_per_address.allow(signup.address.key):
        log.info("sign-up for %s: confirmation limit reached, nothing sent", who)
        return
    nonce, token = app.confirm_tokens.issue()
    invitation = await app.writer.run(lambda: selfservice.request_signup(app.store, signup, nonce))
    if invitation is None:
        log.info("sign-up for %s: already subscribed or suppressed, nothing sent", who)
        return
    message = _confirmation(app, invitation, token)
    result = await run_in_threadpool(send_transactional, app.settings, message)
    outcome = "sent" if isinstance(result, Sent) else f"not sent ({result})"
    log.info("sign-up for %s: confirmation %s", who, outcome)


def _confirmation(app: Web, invitation: Invitation, token: str) -> Any:
    url = f"{app.settings.base_url}/confirm/{token}?lang={invitation.lang}"
    return confirmation_message(app.settings, app.pages, invitation, url)


def _form(
    app: Web, lang: str, data: FormData | None = None, error: str | None = None, status: int = 200
) -> HTMLResponse:
    nonce, token = app.csrf_tokens.issue()
    values = {
        "email": _field(data, "email"),
        "name": _field(data, "name"),
        "consent": _field(data, "consent") == "yes",
    }
    html = app.pages.render(
        "subscribe.html.j2",
        lang,
        title_key="subscribe_title",
        csrf=token,
        form=values,
        error=error,
        languages=app.pages.languages,
    )
    response = HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        CSRF_COOKIE,
        nonce,
        max_age=CSRF_MAX_AGE,
        path="/subscribe",
        secure=app.secure_cookies,
        httponly=True,
        samesite="strict",
    )
    return response


def _csrf_ok(app: Web, request: Request, data: FormData) -> bool:
    """The signed token in the form must carry the nonce in this browser's cookie."""
    nonce = app.csrf_tokens.verify(_field(data, "csrf"))
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return nonce is not None and secrets.compare_digest(nonce.encode(), cookie.encode())


def _notice(app: Web, lang: str, title: str, body: str, status: int = 200) -> HTMLResponse:
    html = app.pages.render("notice.html.j2", lang, title=title, body=body)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _field(data: FormData | None, name: str) -> str:
    value = data.get(name) if data is not None else None
    return value.strip() if isinstance(value, str) else ""


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _accept(request: Request) -> str | None:
    return request.headers.get("accept-language")


routes = [
    Route("/subscribe", form, methods=["GET"]),
    Route("/subscribe", submit, methods=["POST"]),
    Route("/confirm/{token}", confirm_page, methods=["GET"]),
    Route("/confirm/{token}", confirm, methods=["POST"]),
]
