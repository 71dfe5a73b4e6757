"""/webhooks/sendgrid: signed event batches, as SendGrid sends them, and as attackers would."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select

from newsletter.audience.models import Status
from newsletter.db.schema import provider_events, subscribers
from newsletter.providers.sendgrid_events import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.web.conftest import Served

KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC = base64.b64encode(
    KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
).decode()


def signed(body: bytes, *, at: float | None = None, key=KEY) -> dict[str, str]:  # type: ignore[no-untyped-def]
    timestamp = str(int(time.time() if at is None else at))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        SIGNATURE_HEADER: base64.b64encode(signature).decode(),
        TIMESTAMP_HEADER: timestamp,
        "Content-Type": "application/json",
    }


def event(kind: str, subscriber: int, n: int, **extra: Any) -> dict[str, Any]:
    return {
        "email": f"reader{subscriber}@example.com",
        "timestamp": int(time.time()) + 1 + n % 60,  # after the fixture subscribed them
        "event": kind,
        "sg_event_id": f"evt-{kind}-{subscriber}-{n}",
        "sg_message_id": "msg.1",
        "campaign": "2025-09-04-ai-blockchain-healthcare",
        "subscriber": str(subscriber),
        **extra,
    }


@pytest.fixture
def hooked(serve) -> Served:
    served = serve(sendgrid_webhook_public_key=PUBLIC)
    for i in range(1, 4):
        served.add(f"reader{i}@example.com")
    return served


def post(served: Served, body: bytes, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return served.client.post("/webhooks/sendgrid", content=body, headers=headers)


def statuses(served: Served) -> list[str]:
    return [str(s.status) for s in served.store.find()]


def test_a_signed_batch_bounces_complains_and_keeps_delivered_readers(hooked: Served) -> None:
    body = json.dumps(
        [
            event("bounce", 1, 1, type="bounce", reason="550 5.1.1 user unknown"),
            event("spamreport", 2, 2),
            event("delivered", 3, 3),
        ]
    ).encode()
    assert post(hooked, body, signed(body)).status_code == 204
    assert statuses(hooked) == ["bounced", "complained", "subscribed"]


def test_a_tampered_stale_or_foreign_batch_is_refused_and_changes_nothing(hooked: Served) -> None:
    body = json.dumps([event("spamreport", 1, 1)]).encode()
    tampered = body.replace(b'"1"', b'"2"')
    stranger = ec.generate_private_key(ec.SECP256R1())
    attempts = [
        (tampered, signed(body)),
        (body, signed(body, at=time.time() - 11 * 60)),
        (body, signed(body, key=stranger)),
        (body, {"Content-Type": "application/json"}),
    ]
    assert [post(hooked, b, h).status_code for b, h in attempts] == [403] * 4
    assert statuses(hooked) == ["subscribed"] * 3


def test_a_replayed_batch_changes_nothing_more(hooked: Served) -> None:
    body = json.dumps([event("bounce", 1, 1, type="blocked", reason="mailbox full")]).encode()
    for _ in range(3):  # three soft bounces would bounce the reader: one was sent three times
        assert post(hooked, body, signed(body)).status_code == 204
    with hooked.store.read() as conn:
        count = conn.execute(select(subscribers.c.bounce_count).where(subscribers.c.id == 1))
        assert count.scalar_one() == 1
    assert hooked.store.get("reader1@example.com").status is Status.SUBSCRIBED


def test_an_old_bounce_arriving_late_does_not_undo_a_newer_resubscribe(hooked: Served) -> None:
    hooked.store.unsubscribe("reader1@example.com")
    hooked.store.resubscribe("reader1@example.com", reason="asked by email")
    late = event("bounce", 1, 1, type="bounce", reason="old")
    late["timestamp"] = int(time.time()) - 3600
    body = json.dumps([late]).encode()
    assert post(hooked, body, signed(body)).status_code == 204
    assert hooked.store.get("reader1@example.com").status is Status.SUBSCRIBED


def test_an_unreadable_signed_body_is_a_400_so_sendgrid_stops_retrying(hooked: Served) -> None:
    body = b'{"not": "a list"}'
    assert post(hooked, body, signed(body)).status_code == 400


def test_a_signed_body_nested_ten_thousand_deep_is_a_400_not_a_500(hooked: Served) -> None:
    """It raised RecursionError: a 500 that SendGrid would retry for days."""
    body = b"[" * 10_000 + b"]" * 10_000
    answer = post(hooked, body, signed(body))
    assert answer.status_code == 400 and "nested too deeply" in answer.text


def test_without_a_configured_key_every_batch_is_refused(serve) -> None:
    served = serve()
    served.add("reader1@example.com")
    body = json.dumps([event("spamreport", 1, 1)]).encode()
    assert post(served, body, signed(body)).status_code == 403
    assert statuses(served) == ["subscribed"]


def test_a_batch_of_a_thousand_events_is_taken_in_one_request(hooked: Served) -> None:
    events = [event("delivered", 1 + n % 3, n) for n in range(1000)]
    body = json.dumps(events).encode()
    assert post(hooked, body, signed(body)).status_code == 204
    assert statuses(hooked) == ["subscribed"] * 3
    with hooked.store.read() as conn:
        assert conn.execute(select(func.count()).select_from(provider_events)).scalar_one() == 1000
