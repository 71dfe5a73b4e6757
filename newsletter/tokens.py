"""Signed tokens: unsubscribe links, double opt-in confirmations and the sign-up form's CSRF.

Unsubscribe tokens name a subscriber, a list and the campaign whose mail carried them (so the
report counts who left after which issue), never an address. Click tokens name a campaign and
a link's position, and the reader only when click tracking is per reader.

itsdangerous signs the subscriber id with an HMAC keyed by the configured secret, salted
with the list id, so a token cannot be forged, guessed from another, or used for another
list, and is checked in constant time. The timestamp lets the web endpoint accept a token for
UNSUBSCRIBE_MAX_AGE, far beyond the 30 days the law asks for and the 60 this project promises.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, Signer, TimestampSigner
from itsdangerous.encoding import base64_encode, int_to_bytes, want_bytes

__all__ = [
    "CONFIRM_MAX_AGE",
    "CSRF_MAX_AGE",
    "UNSUBSCRIBE_MAX_AGE",
    "ClickClaim",
    "ClickTokens",
    "NonceTokens",
    "UnsubscribeClaim",
    "UnsubscribeTokens",
]

UNSUBSCRIBE_MAX_AGE = 400 * 24 * 3600
CONFIRM_MAX_AGE = 7 * 24 * 3600
CSRF_MAX_AGE = 2 * 3600
_SALT = "newsletter.unsubscribe.v1:"


_CAMPAIGN_SEP = "~"
"""Between subscriber and campaign in an unsubscribe token; in neither of their ids."""


@dataclass(frozen=True)
class UnsubscribeClaim:
    subscriber: str
    list_id: str
    campaign: str | None = None
    """None for tokens made before campaigns were named in them."""


class _KeyCachingSigner(Signer):
    """Keys the HMAC once; itsdangerous would derive the key and key the HMAC for every token.

    A send signs a token per reader, so each signature copies the keyed HMAC instead. The
    tokens are the ones itsdangerous makes (tests/test_tokens.py), and checking them is its own.
    """

    def __init__(self, secret_key: str, salt: str):
        super().__init__(secret_key, salt=salt)
        self._derived = super().derive_key()
        self._keyed = hmac.new(self._derived, digestmod=self.digest_method)

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        return self._derived if secret_key is None else super().derive_key(secret_key)

    def get_signature(self, value: str | bytes) -> bytes:
        mac = self._keyed.copy()
        mac.update(want_bytes(value))
        return base64_encode(mac.digest())


class _KeyCachingTimestampSigner(_KeyCachingSigner, TimestampSigner):
    """The same, with the signing time in the token (for links that expire), encoded once a
    second rather than once a token."""

    _stamped: tuple[int, bytes] = (-1, b"")

    def sign(self, value: str | bytes) -> bytes:
        moment, stamp = self._stamped  # one read: threads of `serve` sign at once
        if moment != (now := self.get_timestamp()):
            moment, stamp = self._stamped = (now, base64_encode(int_to_bytes(now)))
        sep = want_bytes(self.sep)
        signed = want_bytes(value) + sep + stamp
        return signed + sep + self.get_signature(signed)


class UnsubscribeTokens:
    """Issue and check unsubscribe tokens for one list (about 6 µs a token)."""

    def __init__(self, secret_key: str, list_id: str):
        self._signer = _KeyCachingTimestampSigner(secret_key, salt=_SALT + list_id)
        self._list_id = list_id

    def issue(self, subscriber: str, campaign: str | None = None) -> str:
        value = subscriber if campaign is None else f"{subscriber}{_CAMPAIGN_SEP}{campaign}"
        return self._signer.sign(value).decode("ascii")

    def verify(self, token: str) -> UnsubscribeClaim | None:
        """The claim, or None for a forged, tampered, expired or foreign token."""
        try:
            value = self._signer.unsign(token, max_age=UNSUBSCRIBE_MAX_AGE).decode("utf-8")
        except (BadSignature, ValueError, TypeError, UnicodeDecodeError):
            return None
        subscriber, sep, campaign = value.rpartition(_CAMPAIGN_SEP)
        if not sep:
            return UnsubscribeClaim(value, self._list_id)
        return UnsubscribeClaim(subscriber, self._list_id, campaign)


class ClickTokens:
    """Tracked links: ``CAMPAIGN.POSITION.SIG``, and ``SUBSCRIBER.SIG`` for the reader.

    The link part is signed once per campaign and link; the reader part once per recipient
    (one HMAC, the cost of the unsubscribe token). Both have no expiry: a link in an email
    kept for years must still lead where it led. Each part has its own salt, and the reader
    part is bound to the campaign, so neither can be made up, altered or moved to another
    campaign; combining parts of one message only clicks another link of that message.
    """

    def __init__(self, secret_key: str, list_id: str):
        self._links = _KeyCachingSigner(secret_key, salt=f"newsletter.click.v1:{list_id}")
        self._readers = _KeyCachingSigner(secret_key, salt=f"newsletter.reader.v1:{list_id}")

    def link(self, campaign: str, position: int) -> str:
        return self._links.sign(f"{campaign}.{position}").decode("ascii")

    def reader(self, campaign: str, subscriber: str) -> str:
        signed = self._readers.sign(f"{campaign}.{subscriber}").decode("ascii")
        return signed[len(campaign) + 1 :]

    def verify(self, link: str, reader: str | None = None) -> ClickClaim | None:
        """The claim, or None when either part is forged, altered or from another campaign."""
        try:
            campaign, _, position = self._links.unsign(link).decode("ascii").rpartition(".")
            if not campaign or not position.isdigit() or len(position) > 6:
                return None
            subscriber = None
            if reader is not None:
                subscriber = self._readers.unsign(f"{campaign}.{reader}").decode("ascii")
                subscriber = subscriber[len(campaign) + 1 :]
        except (BadSignature, ValueError, TypeError, UnicodeDecodeError):
            return None
        return ClickClaim(campaign, int(position), subscriber)


@dataclass(frozen=True)
class ClickClaim:
    campaign: str
    position: int
    subscriber: str | None


class NonceTokens:
    """Random nonces signed for one purpose (confirmation, CSRF), accepted for ``max_age`` s.

    The nonce itself is what the database or the cookie holds; the signature stops anyone
    from making up nonces, and each purpose has its own salt so one never passes for another.
    """

    def __init__(self, secret_key: str, purpose: str, list_id: str, max_age: int):
        self._signer = _KeyCachingTimestampSigner(
            secret_key, salt=f"newsletter.{purpose}.v1:{list_id}"
        )
        self._max_age = max_age

    def issue(self) -> tuple[str, str]:
        """A fresh (nonce, token) pair."""
        nonce = secrets.token_urlsafe(24)
        return nonce, self._signer.sign(nonce).decode("ascii")

    def verify(self, token: str) -> str | None:
        """The nonce, or None for a forged, tampered or expired token."""
        try:
            return self._signer.unsign(token, max_age=self._max_age).decode("ascii")
        except (BadSignature, ValueError, TypeError, UnicodeDecodeError):
            return None
