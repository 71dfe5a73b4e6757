"""Email providers behind one small interface; each service's wire format stays in its module."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from newsletter.errors import ConfigError

if TYPE_CHECKING:
    from newsletter.config import Settings
    from newsletter.mime import MessageBuilder
    from newsletter.providers.base import Provider, Result
    from newsletter.transactional import Transactional

__all__ = ["check_transactional", "open_provider", "send_transactional"]


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


def check_transactional(settings: Settings) -> None:
    """Stop at startup, naming the setting, when the configured provider cannot send."""
    if settings.provider == "sendgrid":
        from newsletter.providers import sendgrid

        sendgrid.check_settings(settings)
    elif settings.provider == "smtp":
        from newsletter.providers import smtp

        smtp.check_settings(settings)


def send_transactional(settings: Settings, message: Transactional) -> Result:
    """Send one message outside any campaign; with no provider, write it to outbox/transactional/."""
    if settings.provider == "sendgrid":
        from newsletter.providers import sendgrid

        return sendgrid.send_transactional(settings, message)
    if settings.provider == "smtp":
        from newsletter.providers import smtp

        return smtp.send_transactional(settings, message)
    from newsletter.providers import dryrun

    return dryrun.send_transactional(settings, message)
