"""SendGrid's Event Webhook: its signature, and its JSON events in neutral terms.

The Signed Event Webhook signs ``timestamp + body`` with ECDSA P-256 / SHA-256; checking the
signature and the timestamp's age keeps forged and replayed requests out. Events of kinds we
do not track (group_resubscribe, account events) and events without an id or a timestamp are
left out: a resubscribe needs a person, and an event without an id cannot be deduplicated. Our
campaign sends put ``campaign`` and ``subscriber`` in custom_args, which arrive as top-level keys.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
import time
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from newsletter.providers.base import ProviderEvent
from newsletter.recipients import subscriber_id_of

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "SignatureError",
    "load_public_key",
    "parse_events",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

_KINDS = {
    "processed": "processed",
    "deferred": "deferred",
    "delivered": "delivered",
    "dropped": "dropped",
    "open": "open",
    "click": "click",
    "spamreport": "complaint",
    "unsubscribe": "unsubscribe",
    "group_unsubscribe": "unsubscribe",
}


class SignatureError(Exception):
    """The request is not provably SendGrid's, or is too old (or new) to accept."""


def verify_signature(
    public_key: str,
    signature: str,
    timestamp: str,
    body: bytes,
    *,
    now: float | None = None,
    tolerance: float = 600.0,
) -> None:
    """Raise SignatureError unless SendGrid signed exactly this body at about this time."""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise SignatureError("the webhook timestamp is not a number of seconds")
    skew = abs((time.time() if now is None else now) - int(timestamp))
    if skew > tolerance:
        raise SignatureError(
            f"the webhook timestamp is {skew:.0f} s away from now (at most {tolerance:.0f} s)"
        )
    key = load_public_key(public_key)
    try:
        der = base64.b64decode(signature, validate=True)
        key.verify(der, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, ValueError, InvalidSignature):
        raise SignatureError("the webhook signature does not match the body") from None


@functools.lru_cache(maxsize=4)
def load_public_key(public_key: str) -> ec.EllipticCurvePublicKey:
    """The key as SendGrid shows it (base64 DER), loaded once: every request is checked with it."""
    try:
        key = serialization.load_der_public_key(
            base64.b64decode("".join(public_key.split()), validate=True)
        )
    except (binascii.Error, ValueError):
        raise SignatureError("not a base64 public key") from None
    if not (isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)):
        raise SignatureError("not an ECDSA P-256 key")
    return key


def parse_events(body: bytes) -> list[ProviderEvent]:
    """The tracked events of a webhook body (a JSON array of event objects), in body order."""
    try:
        items = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"the webhook body is not JSON: {exc}") from None
    except RecursionError:  # signed, but no event is nested a thousand levels deep
        raise ValueError("the webhook body is nested too deeply to be events") from None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValueError("the webhook body is not a JSON array of event objects")
    return [event for item in items if (event := _event(item)) is not None]


def _event(item: dict[str, Any]) -> ProviderEvent | None:
    kind = _kind(item)
    event_id = item.get("sg_event_id")
    occurred_at = _time(item.get("timestamp"))
    if kind is None or not isinstance(event_id, str) or not event_id or occurred_at is None:
        return None
    return ProviderEvent(
        event_id=event_id,
        kind=kind,
        occurred_at=occurred_at,
        email=_text(item.get("email")),
        subscriber_id=subscriber_id_of(item.get("subscriber")),
        campaign_id=_text(item.get("campaign")),
        reason=_text(item.get("reason")),
    )


def _kind(item: dict[str, Any]) -> str | None:
    """A bounce of type "blocked" is SendGrid's soft bounce (the server refused for now)."""
    event = item.get("event")
    if event == "bounce":
        return "soft_bounce" if item.get("type") == "blocked" else "bounce"
    return _KINDS.get(event) if isinstance(event, str) else None


def _time(value: Any) -> dt.datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return dt.datetime.fromtimestamp(value, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
