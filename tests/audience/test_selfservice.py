"""What readers do on the web, at the store: evidence kept while needed, and no longer."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from newsletter.addresses import normalize
from newsletter.audience import selfservice
from newsletter.audience.selfservice import SignupRequest
from newsletter.db.schema import confirmations


def request(email: str) -> SignupRequest:
    return SignupRequest(normalize(email), "Ada", "en", "I agree", "test form", "192.0.2.1", "UA")


def confirmation_rows(store) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(confirmations)).scalar_one()


def test_erasing_someone_deletes_their_sign_up_evidence_too(store) -> None:
    selfservice.request_signup(store, request("reader@example.com"), "nonce-1")
    assert confirmation_rows(store) == 1
    store.erase("reader@example.com")
    assert confirmation_rows(store) == 0


def test_expired_unused_confirmations_are_pruned_and_used_ones_kept(store) -> None:
    selfservice.request_signup(store, request("used@example.com"), "nonce-used")
    selfservice.request_signup(store, request("unused@example.com"), "nonce-unused")
    week = dt.timedelta(days=7)
    assert selfservice.confirm(store, "nonce-used", max_age=week, ip=None, user_agent=None)
    assert selfservice.prune_confirmations(store, dt.timedelta(0)) == 1
    with store.read() as conn:
        assert conn.execute(select(confirmations.c.nonce)).scalars().all() == ["nonce-used"]


def test_a_form_name_is_one_printable_line() -> None:
    assert selfservice.clean_name("  Ada\r\n\tLovelace\x00\x07 ") == "Ada Lovelace"
    assert selfservice.clean_name("\x00\r\n") is None
    assert len(selfservice.clean_name("長" * 500) or "") == 100
