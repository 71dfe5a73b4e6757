"""Email providers behind one small interface; each service's wire format stays in its module.

A backend module (``sendgrid``, ``smtp``) offers ``PROVIDER`` (the campaign provider class,
built from settings and a MessageBuilder), ``check_settings`` and ``send_transactional``.
Modules are imported on first use, so a command that never sends never loads them.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from newsletter.errors import ConfigError

if TYPE_CHECKING:
    from newsletter.config import Settings
    from newsletter.providers.base import Provider, Result
    from newsletter.render.mime import MessageBuilder
    from newsletter.render.transactional import Transactional

__all__ = [
    "BACKENDS",
    "check_provider",
    "check_transactional",
    "open_provider",
    "send_transactional",
]

BACKENDS = {"sendgrid": "newsletter.providers.sendgrid", "smtp": "newsletter.providers.smtp"}
"""Provider name -> its module. Adding a service is a module and a line here."""


def open_provider(name: str | None, settings: Settings, builder: MessageBuilder) -> Provider:
    """The named provider, checked before anything is sent (a missing setting is named)."""
    provider: Provider = _backend(name).PROVIDER(settings, builder)
    return provider


def check_provider(name: str | None, settings: Settings) -> None:
    """Raise ConfigError now, naming the setting, when ``name`` cannot send with these settings."""
    _backend(name).check_settings(settings)


def check_transactional(settings: Settings) -> None:
    """Stop at startup when the configured provider cannot send (none configured is fine)."""
    if settings.provider:
        check_provider(settings.provider, settings)


def send_transactional(settings: Settings, message: Transactional) -> Result:
    """Send one message outside any campaign; with no provider, write it to outbox/transactional/."""
    if settings.provider:
        result: Result = _backend(settings.provider).send_transactional(settings, message)
        return result
    from newsletter.providers import dryrun

    return dryrun.send_transactional(settings, message)


def _backend(name: str | None) -> ModuleType:
    if name in BACKENDS:
        return importlib.import_module(BACKENDS[name])
    if name:
        raise ConfigError(f"unknown provider {name!r}: use {' or '.join(BACKENDS)} (or --dry-run)")
    raise ConfigError(
        'no provider is configured: set provider = "sendgrid" or "smtp" in newsletter.toml '
        "(or NEWSLETTER_PROVIDER), or use --dry-run"
    )
