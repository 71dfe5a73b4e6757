"""/subscribe and /confirm/{token}: double opt-in sign-up.

The form carries a CSRF token tied to a cookie, a honeypot field and per-IP limits. Every
accepted form gets the same "check your inbox" answer, whether the address was new, already
subscribed or suppressed, and the email goes out after the answer, so neither the words nor
the timing tell who is on the list. Confirming is a POST from the page the link opens, so a
mail scanner that opens the link subscribes nobody.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from newsletter.addresses import InvalidAddress, normalize
from newsletter.audience import selfservice
from newsletter.audience.selfservice import SignupRequest
from newsletter.errors import NewsletterError
from newsletter.providers import send_transactional
from newsletter.providers.base import Sent
from newsletter.render.confirmation import confirmation_message
from newsletter.tokens import CONFIRM_MAX_AGE, CSRF_MAX_AGE
from newsletter.web.limits import ip_bucket
from newsletter.web.state import Web, client_ip, log, notice, user_agent, web

__all__ = ["CSRF_COOKIE", "routes"]

CSRF_COOKIE = "nl_csrf"
FORM_NAME = "web form /subscribe"


async def form(request: Request) -> HTMLResponse:
    app = web(request)
    return _form(app, app.lang(request, request.query_params.get("lang")))


async def submit(request: Request) -> HTMLResponse:
    app = web(request)
    data = await request.form()
    lang = app.lang(request, _field(data, "lang"))
    t = app.pages.strings[lang]
    if not _csrf_ok(app, request, data):
        return _form(app, lang, data, t.form_expired, status=403)
    if not app.signups_per_ip.allow(ip_bucket(client_ip(request))):
        return notice(app, lang, t.subscribe_title, t.too_many, status=429)
    try:
        address = normalize(_field(data, "email"))
    except InvalidAddress:
        return _form(app, lang, data, t.invalid_email, status=400)
    if _field(data, "consent") != "yes":
        return _form(app, lang, data, t.consent_required, status=400)
    answer = notice(
        app, lang, t.check_inbox_title, t.check_inbox_body.replace("{email}", address.email)
    )
    if _field(data, "website"):  # the honeypot: a person never sees this field
        log.info("sign-up honeypot filled for %s", app.address_hash(address.email))
        return answer
    signup = SignupRequest(
        address=address,
        name=selfservice.clean_name(_field(data, "name")),
        lang=lang,
        consent_text=t.consent_text,
        form=FORM_NAME,
        ip=client_ip(request),
        user_agent=user_agent(request),
    )
    answer.background = BackgroundTask(_sign_up, app, signup)
    return answer


async def confirm_page(request: Request) -> HTMLResponse:
    app = web(request)
    lang = app.lang(request, request.query_params.get("lang"))
    if app.confirm_tokens.verify(request.path_params["token"]) is None:
        t = app.pages.strings[lang]
        return notice(app, lang, t.confirm_title, t.confirm_invalid_body, status=404)
    return HTMLResponse(
        app.pages.render("confirm.html.j2", lang, title_key="confirm_title"),
        headers={"Cache-Control": "no-store"},
    )


async def confirm(request: Request) -> HTMLResponse:
    app = web(request)
    lang = app.lang(request, request.query_params.get("lang"))
    nonce = app.confirm_tokens.verify(request.path_params["token"])
    ip, agent = client_ip(request), user_agent(request)
    member = None
    if nonce is not None:
        member = await app.writer.run(
            lambda: selfservice.confirm(
                app.store,
                nonce,
                max_age=dt.timedelta(seconds=CONFIRM_MAX_AGE),
                ip=ip,
                user_agent=agent,
            )
        )
    if member is None:
        t = app.pages.strings[lang]
        return notice(app, lang, t.confirm_title, t.confirm_invalid_body, status=404)
    lang = app.lang(request, member.lang, lang)
    t = app.pages.strings[lang]
    log.info("confirmed subscriber %s", member.id)
    return notice(app, lang, t.confirmed_title, t.confirmed_body)


async def _sign_up(app: Web, signup: SignupRequest) -> None:
    """After the answer: record the sign-up and, where one is due, send the confirmation.

    Nothing here may reach the reader (the answer is sent), so every outcome is logged with the
    provider's own words for the operator, the address replaced by its hash wherever it appears.
    """
    who = app.address_hash(signup.address.email)
    provider = app.settings.provider or "the dry-run outbox"
    try:
        if not app.mails_per_address.allow(signup.address.key):
            log.info("sign-up for %s: confirmation limit reached, nothing sent", who)
            return
        nonce, token = app.confirm_tokens.issue()
        invitation = await app.writer.run(
            lambda: selfservice.request_signup(app.store, signup, nonce)
        )
        if invitation is None:
            log.info("sign-up for %s: already subscribed or suppressed, nothing sent", who)
            return
        url = f"{app.settings.base_url}/confirm/{token}?lang={invitation.lang}"
        message = confirmation_message(
            app.settings,
            app.pages,
            to=invitation.email,
            name=invitation.name,
            lang=invitation.lang,
            confirm_url=url,
        )
        result = await run_in_threadpool(send_transactional, app.settings, message)
    except NewsletterError as exc:
        reason = _without_address(str(exc), signup.address.email, who)
        log.error("sign-up for %s: confirmation not sent by %s: %s", who, provider, reason)
        return
    except Exception as exc:  # a bug, not an answer: its text may hold anything, so not logged
        log.error("sign-up for %s failed: %s", who, type(exc).__name__)
        return
    if isinstance(result, Sent):
        log.info("sign-up for %s: confirmation sent by %s", who, provider)
    else:
        reason = _without_address(result.reason, signup.address.email, who)
        outcome = type(result).__name__
        log.error(
            "sign-up for %s: confirmation not sent by %s (%s): %s", who, provider, outcome, reason
        )


def _without_address(text: str, email: str, who: str) -> str:
    """A provider's answer often quotes the address ("550 <x@example.com>: no such user")."""
    return re.sub(re.escape(email), who, text, flags=re.IGNORECASE)


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
        path=f"{app.pages.root}/subscribe",
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


def _field(data: FormData | None, name: str) -> str:
    value = data.get(name) if data is not None else None
    return value.strip() if isinstance(value, str) else ""


routes = [
    Route("/subscribe", form, methods=["GET"]),
    Route("/subscribe", submit, methods=["POST"]),
    Route("/confirm/{token}", confirm_page, methods=["GET"]),
    Route("/confirm/{token}", confirm, methods=["POST"]),
]
