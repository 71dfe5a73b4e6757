"""Confirmation links for readers left pending: the sign-up form's email, sent on the editor's word.

A plain import or `subscribers add` without consent leaves readers pending, and a pending
reader gets no issue. `subscribers confirm --send` mails each of them the same double opt-in
email the sign-up form sends, recorded as a confirmation (the consent evidence is then their
own click), at most MAX_PER_DAY to one address in a day, as on the form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from newsletter.addresses import Address
from newsletter.audience.models import Filters, Status, Subscriber
from newsletter.audience.queries import now
from newsletter.audience.selfservice import SignupRequest, request_signup
from newsletter.audience.store import Store
from newsletter.config import Settings
from newsletter.db.schema import confirmations
from newsletter.errors import NewsletterError, one_line
from newsletter.providers import send_transactional
from newsletter.providers.base import Sent
from newsletter.render.confirmation import confirmation_message
from newsletter.render.pages import Pages
from newsletter.tokens import CONFIRM_MAX_AGE, NonceTokens

__all__ = ["MAX_PER_DAY", "Invited", "invite", "pending_readers"]

MAX_PER_DAY = 3
CONSENT_TEXT = "asked to confirm by the newsletter's editor (subscribers confirm --send)"


@dataclass(frozen=True)
class Invited:
    email: str
    sent: bool
    detail: str


def pending_readers(store: Store, emails: Sequence[str]) -> list[Subscriber]:
    """The readers named (or every pending one), refusing anyone who is not pending."""
    if not emails:
        return store.find(Filters(status=Status.PENDING))
    readers = []
    for email in emails:
        reader = store.get(email)
        if reader is None:
            raise NewsletterError(f"{email} is not on the list")
        if reader.status != Status.PENDING:
            raise NewsletterError(
                f"{reader.email} is {reader.status}, not pending: nothing to confirm"
            )
        readers.append(reader)
    return readers


def invite(store: Store, settings: Settings, readers: Sequence[Subscriber]) -> list[Invited]:
    """Mail each pending reader a confirmation link; one outcome per reader, in order."""
    if settings.uses_example_secret:
        raise NewsletterError(
            "secret_key is the public example value: set NEWSLETTER_SECRET_KEY before mailing anyone"
        )
    settings.require_real_identity("mailing confirmation links")
    pages = Pages.of_site(settings)
    tokens = NonceTokens(
        settings.secret_key.get_secret_value(), "confirm", settings.list_label, CONFIRM_MAX_AGE
    )
    return [_invite(store, settings, pages, tokens, reader) for reader in readers]


def _invite(
    store: Store, settings: Settings, pages: Pages, tokens: NonceTokens, reader: Subscriber
) -> Invited:
    if _sent_today(store, reader.id) >= MAX_PER_DAY:
        return Invited(reader.email, False, f"not sent: {MAX_PER_DAY} already in the last day")
    lang = pages.lang(reader.lang)
    nonce, token = tokens.issue()
    request = SignupRequest(
        address=Address(reader.email, reader.email.lower()),
        name=reader.name,
        lang=lang,
        consent_text=CONSENT_TEXT,
        form="cli",
        ip=None,
        user_agent=None,
    )
    invitation = request_signup(store, request, nonce)
    if invitation is None:
        return Invited(reader.email, False, "not sent: no longer pending")
    url = f"{settings.base_url}/confirm/{token}?lang={invitation.lang}"
    try:
        result = send_transactional(
            settings,
            confirmation_message(
                settings,
                pages,
                to=invitation.email,
                name=invitation.name,
                lang=invitation.lang,
                confirm_url=url,
            ),
        )
    except NewsletterError as exc:
        return Invited(reader.email, False, f"not sent: {one_line(str(exc))}")
    if isinstance(result, Sent):
        return Invited(reader.email, True, "confirmation link sent")
    return Invited(reader.email, False, f"not sent: {getattr(result, 'reason', result)}")


def _sent_today(store: Store, subscriber_id: int) -> int:
    since = now() - dt.timedelta(days=1)
    with store.read() as conn:
        return int(
            conn.execute(
                select(func.count()).where(
                    confirmations.c.subscriber_id == subscriber_id,
                    confirmations.c.created_at >= since,
                )
            ).scalar_one()
        )
