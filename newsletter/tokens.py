"""Signed unsubscribe tokens: they name a subscriber and a list, never an address.

itsdangerous signs a compact JSON payload with the configured secret key (HMAC), so a token
cannot be forged or guessed from another, and verifies it in constant time. The timestamp
lets the web endpoint accept a token for UNSUBSCRIBE_MAX_AGE, far beyond the 30 days the law
asks for and the 60 days this project promises.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = ["UNSUBSCRIBE_MAX_AGE", "UnsubscribeClaim", "UnsubscribeTokens"]

UNSUBSCRIBE_MAX_AGE = 400 * 24 * 3600
_SALT = "newsletter.unsubscribe.v1"


@dataclass(frozen=True)
class UnsubscribeClaim:
    subscriber: str
    list_id: str


class UnsubscribeTokens:
    """Issue and check unsubscribe tokens for one list."""

    def __init__(self, secret_key: str, list_id: str):
        self._serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
        self._list_id = list_id

    def issue(self, subscriber: str) -> str:
        return str(self._serializer.dumps([subscriber, self._list_id]))

    def verify(self, token: str) -> UnsubscribeClaim | None:
        """The claim, or None for a forged, tampered, expired or foreign token."""
        try:
            subscriber, list_id = self._serializer.loads(token, max_age=UNSUBSCRIBE_MAX_AGE)
        except (BadSignature, ValueError, TypeError):
            return None
        if list_id != self._list_id:
            return None
        return UnsubscribeClaim(str(subscriber), str(list_id))
