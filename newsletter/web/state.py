"""What every request handler of `newsletter serve` needs, built once at startup."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import HTMLResponse

from newsletter.audience.store import Store
from newsletter.config import Settings
from newsletter.render.pages import Pages
from newsletter.tokens import (
    CONFIRM_MAX_AGE,
    CSRF_MAX_AGE,
    ClickTokens,
    NonceTokens,
    UnsubscribeTokens,
)
from newsletter.web.clicklog import BurstWatch, ClickLog, LinkTargets
from newsletter.web.limits import RateLimiter
from newsletter.web.site import RenderedIssues
from newsletter.web.writer import Writer

__all__ = ["Web", "client_ip", "log", "notice", "user_agent", "web"]

log = logging.getLogger("newsletter.web")

SIGNUPS_PER_IP = (5, 600.0)
"""Sign-up posts per IP (IPv6: per /64) per 10 minutes: plenty for a household."""
MAILS_PER_ADDRESS = (3, 86_400.0)
"""Confirmation emails per address per day: a victim's inbox is not flooded by a prankster."""
USER_AGENT_LIMIT = 500


@dataclass
class Web:
    settings: Settings
    store: Store
    pages: Pages
    writer: Writer = field(init=False)
    rendered_issues: RenderedIssues = field(init=False)
    unsubscribe_tokens: UnsubscribeTokens = field(init=False)
    click_tokens: ClickTokens = field(init=False)
    link_targets: LinkTargets = field(init=False)
    clicks: ClickLog = field(init=False)
    bursts: BurstWatch = field(default_factory=lambda: BurstWatch())
    confirm_tokens: NonceTokens = field(init=False)
    csrf_tokens: NonceTokens = field(init=False)
    signups_per_ip: RateLimiter = field(default_factory=lambda: RateLimiter(*SIGNUPS_PER_IP))
    mails_per_address: RateLimiter = field(default_factory=lambda: RateLimiter(*MAILS_PER_ADDRESS))

    def __post_init__(self) -> None:
        self.writer = Writer(self.store)
        self.rendered_issues = RenderedIssues(self.store, self.settings)
        secret = self.settings.secret_key.get_secret_value()
        list_id = self.settings.list_label
        self.unsubscribe_tokens = UnsubscribeTokens(secret, list_id)
        self.click_tokens = ClickTokens(secret, list_id)
        self.link_targets = LinkTargets(self.store)
        self.clicks = ClickLog(self.store, self.writer)
        self.confirm_tokens = NonceTokens(secret, "confirm", list_id, CONFIRM_MAX_AGE)
        self.csrf_tokens = NonceTokens(secret, "csrf", list_id, CSRF_MAX_AGE)

    def address_hash(self, email: str) -> str:
        """What logs say instead of an address: keyed, so a list of candidates cannot undo it."""
        key = self.settings.secret_key.get_secret_value().encode("utf-8")
        digest = hmac.new(key, email.strip().lower().encode("utf-8"), hashlib.sha256)
        return digest.hexdigest()[:12]

    def lang(self, request: Request, *preferred: str | None) -> str:
        """The page language: ``preferred`` first, then the browser's Accept-Language."""
        return self.pages.lang(*preferred, accept=request.headers.get("accept-language"))

    @property
    def secure_cookies(self) -> bool:
        return self.settings.base_url.startswith("https://")


def web(request: Request) -> Web:
    found: Web = request.app.state.web
    return found


def client_ip(request: Request) -> str | None:
    """The client's address (the proxy's X-Forwarded-For only from trusted_proxies)."""
    return request.client.host if request.client else None


def user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent", "")[:USER_AGENT_LIMIT] or None


def notice(app: Web, lang: str, title: str, body: str, status: int = 200) -> HTMLResponse:
    """A page with a title and one paragraph: every answer that is only words."""
    html = app.pages.render("notice.html.j2", lang, title=title, body=body)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
