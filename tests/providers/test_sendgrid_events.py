"""SendGrid's Signed Event Webhook, signed here with a P-256 key of our own, and its event mapping."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from newsletter.providers.base import ProviderEvent
from newsletter.providers.sendgrid_events import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    parse_events,
    verify_signature,
)

BODY = b'[{"email":"ada@example.com","event":"delivered","sg_event_id":"e1","timestamp":1}]'


def public_key_of(private: Any) -> str:
    """Base64 DER SubjectPublicKeyInfo: how SendGrid's settings page shows the key."""
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def sign(private: ec.EllipticCurvePrivateKey, timestamp: str, body: bytes) -> str:
    der = private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def test_the_header_names_are_sendgrids() -> None:
    assert SIGNATURE_HEADER == "X-Twilio-Email-Event-Webhook-Signature"
    assert TIMESTAMP_HEADER == "X-Twilio-Email-Event-Webhook-Timestamp"


def test_a_body_signed_by_sendgrid_just_now_passes(key: ec.EllipticCurvePrivateKey) -> None:
    stamp = str(int(time.time()))
    verify_signature(public_key_of(key), sign(key, stamp, BODY), stamp, BODY)


def test_a_tampered_body_is_refused(key: ec.EllipticCurvePrivateKey) -> None:
    stamp = str(int(time.time()))
    signature = sign(key, stamp, BODY)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(public_key_of(key), signature, stamp, BODY.replace(b"e1", b"e2"))


def test_a_moved_timestamp_is_refused(key: ec.EllipticCurvePrivateKey) -> None:
    stamp = str(int(time.time()))
    signature = sign(key, stamp, BODY)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(public_key_of(key), signature, str(int(stamp) + 1), BODY)


def test_another_key_is_refused(key: ec.EllipticCurvePrivateKey) -> None:
    stamp = str(int(time.time()))
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(public_key_of(other), sign(key, stamp, BODY), stamp, BODY)


@pytest.mark.parametrize("offset", [-11 * 60, 11 * 60], ids=["stale", "future"])
def test_a_timestamp_far_from_now_is_refused(key: ec.EllipticCurvePrivateKey, offset: int) -> None:
    """A captured request replayed later (or one from a skewed clock) is not accepted."""
    stamp = str(int(time.time()) + offset)
    with pytest.raises(SignatureError, match="away from now"):
        verify_signature(public_key_of(key), sign(key, stamp, BODY), stamp, BODY)


def test_the_tolerance_and_clock_can_be_given(key: ec.EllipticCurvePrivateKey) -> None:
    stamp = "1700000000"
    signature = sign(key, stamp, BODY)
    verify_signature(public_key_of(key), signature, stamp, BODY, now=1700000000 + 599)
    with pytest.raises(SignatureError):
        verify_signature(public_key_of(key), signature, stamp, BODY, now=1700000060, tolerance=30)


@pytest.mark.parametrize(
    "signature",
    ["", "not base64!", base64.b64encode(b"\x30\x02\x01\x01").decode(), "AAAA"],
    ids=["empty", "not-base64", "bad-der", "zeros"],
)
def test_a_garbage_signature_is_refused(key: ec.EllipticCurvePrivateKey, signature: str) -> None:
    stamp = str(int(time.time()))
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(public_key_of(key), signature, stamp, BODY)


@pytest.mark.parametrize("stamp", ["", "soon", "1.5e9", "-5", "１７００"])
def test_a_timestamp_that_is_not_whole_seconds_is_refused(
    key: ec.EllipticCurvePrivateKey, stamp: str
) -> None:
    with pytest.raises(SignatureError, match="not a number"):
        verify_signature(public_key_of(key), sign(key, stamp, BODY), stamp, BODY)


@pytest.mark.parametrize("public_key", ["not a key", base64.b64encode(b"random bytes").decode()])
def test_a_public_key_setting_that_is_no_key_is_named(
    key: ec.EllipticCurvePrivateKey, public_key: str
) -> None:
    stamp = str(int(time.time()))
    with pytest.raises(SignatureError, match="not a base64 public key"):
        verify_signature(public_key, sign(key, stamp, BODY), stamp, BODY)


@pytest.mark.parametrize(
    "other",
    [
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        lambda: ec.generate_private_key(ec.SECP384R1()),
    ],
    ids=["rsa", "p384"],
)
def test_a_public_key_of_another_kind_is_named(
    key: ec.EllipticCurvePrivateKey, other: Callable[[], Any]
) -> None:
    stamp = str(int(time.time()))
    with pytest.raises(SignatureError, match="not an ECDSA P-256 key"):
        verify_signature(public_key_of(other()), sign(key, stamp, BODY), stamp, BODY)


def test_a_key_pasted_with_line_breaks_still_works(key: ec.EllipticCurvePrivateKey) -> None:
    stamp = str(int(time.time()))
    pasted = public_key_of(key)
    pasted = pasted[:40] + "\n" + pasted[40:] + "\n"
    verify_signature(pasted, sign(key, stamp, BODY), stamp, BODY)


def sendgrid(event: str, **fields: Any) -> dict[str, Any]:
    """One event as SendGrid posts it; our custom_args arrive as top-level keys."""
    return {
        "email": "ada@example.com",
        "timestamp": 1756972800,
        "sg_event_id": f"sg-{event}",
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        "event": event,
        "campaign": "2025-09-04-ai-blockchain-healthcare",
        "subscriber": "42",
        **fields,
    }


def parsed(*events: dict[str, Any]) -> list[ProviderEvent]:
    return parse_events(json.dumps(list(events)).encode())


def test_a_delivered_event_in_neutral_terms() -> None:
    (event,) = parsed(sendgrid("delivered", response="250 OK"))
    assert event == ProviderEvent(
        event_id="sg-delivered",
        kind="delivered",
        occurred_at=dt.datetime(2025, 9, 4, 8, 0, tzinfo=dt.UTC),
        email="ada@example.com",
        subscriber_id=42,
        campaign_id="2025-09-04-ai-blockchain-healthcare",
        provider="sendgrid",
    )


@pytest.mark.parametrize(
    ("fields", "kind", "reason"),
    [
        ({"event": "bounce", "type": "bounce", "reason": "550 5.1.1 no such user"}, "bounce", "550 5.1.1 no such user"),
        ({"event": "bounce", "type": "blocked", "reason": "421 try later", "bounce_classification": "Reputation"}, "soft_bounce", "421 try later"),
        ({"event": "dropped", "reason": "Bounced Address"}, "dropped", "Bounced Address"),
        ({"event": "spamreport"}, "complaint", None),
        ({"event": "unsubscribe"}, "unsubscribe", None),
        ({"event": "group_unsubscribe", "asm_group_id": 1}, "unsubscribe", None),
        ({"event": "processed"}, "processed", None),
        ({"event": "deferred", "response": "400 try again later", "attempt": "5"}, "deferred", None),
        ({"event": "open", "useragent": "Mozilla/5.0"}, "open", None),
        ({"event": "click", "url": "https://example.com"}, "click", None),
    ],
)  # fmt: skip
def test_each_tracked_event_maps_to_a_neutral_kind(
    fields: dict[str, Any], kind: str, reason: str | None
) -> None:
    (event,) = parsed(sendgrid(**fields))
    assert (event.kind, event.reason) == (kind, reason)


def test_untracked_events_and_events_without_an_id_or_time_are_left_out() -> None:
    kept = sendgrid("delivered")
    events = parsed(
        sendgrid("group_resubscribe"),
        sendgrid("account_status_change"),
        {**sendgrid("bounce"), "sg_event_id": None},
        {key: value for key, value in sendgrid("dropped").items() if key != "sg_event_id"},
        {**sendgrid("processed"), "timestamp": "yesterday"},
        {**sendgrid("deferred"), "event": ["deferred"]},
        kept,
    )
    assert [e.event_id for e in events] == [kept["sg_event_id"]]


@pytest.mark.parametrize(
    ("subscriber", "expected"),
    [("42", 42), ("test-editor@example.com", None), ("sample", None), ("4 2", None), ("", None)],
)
def test_only_a_numeric_subscriber_key_names_a_subscriber(
    subscriber: str, expected: int | None
) -> None:
    (event,) = parsed(sendgrid("bounce", subscriber=subscriber))
    assert event.subscriber_id == expected


def test_mail_without_our_custom_args_has_no_ids() -> None:
    plain = {k: v for k, v in sendgrid("bounce").items() if k not in ("campaign", "subscriber")}
    (event,) = parsed(plain)
    assert (event.subscriber_id, event.campaign_id, event.email) == (None, None, "ada@example.com")


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b'{"event": "delivered"}', b"[1, 2]", b'[{"event": "open"}, "x"]', b"\xff"],
)
def test_a_body_that_is_not_an_array_of_events_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError, match="webhook body is not"):
        parse_events(body)


def test_an_empty_array_is_no_events() -> None:
    assert parse_events(b"[]") == []
