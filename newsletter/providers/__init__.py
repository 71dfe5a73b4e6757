"""Email providers behind one small interface; each service's wire format stays in its module."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from newsletter.errors import ConfigError

if TYPE_CHECKING:
    from newsletter.config import Settings
    from newsletter.mime import MessageBuilder
    from newsletter.providers.base import Provider

__all__ = ["open_provider"]


def open_provider(
    name: str | None,
    settings: Settings,
    builder: MessageBuilder,
    *,
    send_at: dt.datetime | None = None,
) -> Provider:
    """The configured provider, checked before anything is sent (a missing setting is named)."""
    if name == "sendgrid":
        from newsletter.providers.sendgrid import SendGridProvider

        return SendGridProvider(settings, builder, send_at=send_at)
    if name == "smtp":
        from newsletter.providers.smtp import SmtpProvider

        if send_at is not None:
            raise ConfigError("--at needs the sendgrid provider: SMTP cannot schedule delivery")
        return SmtpProvider(settings, builder)
    if name:
        raise ConfigError(f"unknown provider {name!r}: use sendgrid or smtp (or --dry-run)")
    raise ConfigError(
        'no provider is configured: set provider = "sendgrid" or "smtp" in newsletter.toml '
        "(or NEWSLETTER_PROVIDER), or use --dry-run"
    )
