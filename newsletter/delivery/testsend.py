"""Test sends: the issue to a few typed-in addresses, marked [TEST], never part of a campaign.

Shared by `newsletter send --test` and the preview's send-test form, so both send exactly
what subscribers would get, through the same provider code.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from email.utils import getaddresses
from typing import TYPE_CHECKING

from newsletter.addresses import InvalidAddress, normalize
from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.providers import open_provider
from newsletter.providers.base import Result, Sent
from newsletter.providers.dryrun import DryRunProvider
from newsletter.qa.build import sample_recipient
from newsletter.recipients import first_name_of
from newsletter.render.issue import Editions
from newsletter.render.mime import MessageBuilder, Recipient

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from newsletter.render.issue import RenderedIssue

__all__ = ["TestOutcome", "key_for_test_send", "send_test"]

MAX_TEST_ADDRESSES = 20


@dataclass(frozen=True)
class TestOutcome:
    email: str
    sent: bool
    detail: str
    edition: str = ""


def send_test(
    issue: RenderedIssue | Editions,
    settings: Settings,
    addresses: Iterable[str],
    *,
    provider_name: str | None = None,
    dry_run: bool = False,
) -> list[TestOutcome]:
    """Send the sample reader's copy of every edition to each address (one message per
    edition, each with its own Message-ID); dry run into outbox/test-<slug>/."""
    typed = _recipients(addresses, settings)  # a mistyped address stops before any provider
    editions = issue if isinstance(issue, Editions) else Editions.single(issue)
    slug = editions.original.slug
    builder = MessageBuilder(editions, settings, campaign=f"test-{slug}", subject_prefix="[TEST] ")
    provider = (
        DryRunProvider(builder, settings.outbox_dir / f"test-{slug}")
        if dry_run
        else open_provider(provider_name or settings.provider, settings, builder)
    )
    outcomes = []
    try:
        for n, lang in enumerate(editions.langs):  # one provider call per edition
            recipients = [
                r._replace(key=f"{r.key}-{lang}" if n else r.key, edition=lang) for r in typed
            ]
            results = provider.send([builder.envelope(r) for r in recipients])
            outcomes += _outcomes(recipients, results, settings, slug, dry_run)
    finally:
        provider.close()
    return outcomes


def _outcomes(
    recipients: list[Recipient],
    results: list[Result],
    settings: Settings,
    slug: str,
    dry_run: bool,
) -> list[TestOutcome]:
    where = f"written to {settings.outbox_dir / f'test-{slug}'}" if dry_run else "sent"
    return [
        TestOutcome(r.email, True, where, r.edition or "")
        if isinstance(result, Sent)
        else TestOutcome(
            r.email, False, f"not sent: {getattr(result, 'reason', result)}", r.edition or ""
        )
        for r, result in zip(recipients, results, strict=True)
    ]


def _recipients(addresses: Iterable[str], settings: Settings) -> list[Recipient]:
    """Each typed address as a reader: its display name greets them, else the sample reader's."""
    sample = sample_recipient(settings)
    named: dict[str, str | None] = {}
    for email, name in _parse(addresses):
        named.setdefault(email, name)
    if not named:
        raise NewsletterError("no test address given; type one or more addresses")
    if len(named) > MAX_TEST_ADDRESSES:
        raise NewsletterError(
            f"{len(named)} test addresses; at most {MAX_TEST_ADDRESSES} (send a campaign instead)"
        )
    return [
        Recipient(
            key=key_for_test_send(email, settings),
            email=email,
            name=name or sample.name,
            first_name=first_name_of(name) if name else sample.first_name,
        )
        for email, name in named.items()
    ]


def _parse(typed: Iterable[str]) -> Iterator[tuple[str, str | None]]:
    """``chan@example.com``, ``陳編輯 <chan@example.com>`` or a comma-separated list of them."""
    for text in typed:
        for name, address in getaddresses([text]):
            if not address:
                raise NewsletterError(
                    f"test address {text.strip()!r} is not valid: write name@example.com "
                    "or Name <name@example.com>"
                )
            try:
                email = normalize(address).email
            except InvalidAddress as exc:
                raise NewsletterError(f"test address {address!r} is not valid: {exc}") from None
            yield email, " ".join(name.split()) or None


def key_for_test_send(email: str, settings: Settings) -> str:
    """The recipient id of a test send: a keyed hash, so no link, header or custom arg names the
    address, and nobody without the secret can tell which address a key stands for."""
    secret = settings.secret_key.get_secret_value().encode("utf-8")
    digest = hmac.new(secret, f"test-send\0{email}".encode(), hashlib.sha256).hexdigest()
    return f"test-{digest[:20]}"
