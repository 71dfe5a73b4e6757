"""What every request handler of `newsletter serve` needs, built once at startup."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field

from starlette.requests import Request

from newsletter.audience.store import Store
from newsletter.config import Settings
from newsletter.tokens import (
    CONFIRM_MAX_AGE,
    CSRF_MAX_AGE,
    NonceTokens,
    UnsubscribeTokens,
)
from newsletter.web.limits import RateLimiter
from newsletter.web.pages import Pages
from newsletter.web.writer import Writer

__all__ = ["Web", "address_hash", "log", "web"]

log = logging.getLogger("newsletter.web")

SIGNUPS_PER_IP = (5, 600.0)
"""Sign-up posts per IP per 10 minutes: plenty for a household behind one address."""
MAILS_PER_ADDRESS = (3, 86_400.0)
PRUNE_EVERY = 3600.0
"""Confirmation emails per address per day: a victim's inbox is not flooded by a prankster."""


@dataclass
class Web:
    settings: Settings
    store: Store
    pages: Pages
    writer: Writer = field(init=False)
    unsubscribe_tokens: UnsubscribeTokens = field(init=False)
    confirm_tokens: NonceTokens = field(init=False)
    csrf_tokens: NonceTokens = field(init=False)
    signups_per_ip: RateLimiter = field(default_factory=lambda: RateLimiter(*SIGNUPS_PER_IP))
    mails_per_address: RateLimiter = field(default_factory=lambda: RateLimiter(*MAILS_PER_ADDRESS))
    _last_prune: float = field(default=float("-inf"), init=False)

    def __post_init__(self) -> None:
        self.writer = Writer(self.store)
        secret = self.settings.secret_key.get_secret_value()
        list_id = self.settings.list_label
        self.unsubscribe_tokens = UnsubscribeTokens(secret, list_id)
        self.confirm_tokens = NonceTokens(secret, "confirm", list_id, CONFIRM_MAX_AGE)
        self.csrf_tokens = NonceTokens(secret, "csrf", list_id, CSRF_MAX_AGE)

    def prune_due(self) -> bool:
        """Once an hour: the deduplication table only needs SendGrid's 72-hour retry window."""
        now = time.monotonic()
        if now - self._last_prune < PRUNE_EVERY:
            return False
        self._last_prune = now
        return True

    @property
    def secure_cookies(self) -> bool:
        return self.settings.base_url.startswith("https://")


def web(request: Request) -> Web:
    return request.app.state.web  # type: ignore[no-any-return]


def address_hash(email: str) -> str:
    """What logs say instead of an address: enough to follow one person, not to read it."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:12]
