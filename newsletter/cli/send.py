"""`newsletter send` and `newsletter campaigns ...`: delivery from the command line."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from newsletter.cli.context import console, settings
from newsletter.errors import NewsletterError

if TYPE_CHECKING:
    from newsletter.audience.store import Filters, Store
    from newsletter.config import Settings
    from newsletter.delivery.runner import Summary
    from newsletter.issue import RenderedIssue

__all__ = ["campaigns_app", "send"]

SEND_AT_LIMIT = dt.timedelta(hours=72)
campaigns_app = typer.Typer(
    help="Campaign progress per recipient, and retries.", no_args_is_help=True
)


def send(
    article: Annotated[Path, typer.Argument(help="The article to send.")],
    tag: Annotated[str | None, typer.Option(help="Only subscribers with this tag.")] = None,
    lang: Annotated[str | None, typer.Option(help="Only subscribers with this language.")] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Build every message into outbox/<campaign>/; contact nobody."
        ),
    ] = False,
    test: Annotated[
        list[str] | None,
        typer.Option(
            "--test", help="Send only to this address, subject marked [TEST]; repeatable."
        ),
    ] = None,
    provider: Annotated[
        str | None, typer.Option(help="sendgrid or smtp \\[default: the provider setting].")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(help="Deliver at this time (ISO 8601, within 72 hours; SendGrid only)."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    eml_all: Annotated[
        bool, typer.Option("--eml-all", help="With --dry-run: an .eml for every recipient.")
    ] = False,
) -> None:
    """Send ARTICLE to every subscribed reader (or --tag/--lang), exactly once.

    Running it again continues the same campaign: only recipients still pending are sent.
    """
    from newsletter.article import read_article
    from newsletter.audience.store import Filters
    from newsletter.render import render_issue

    config = settings()
    source = read_article(article)
    issue = render_issue(source, config)
    filters = Filters(tag=tag, lang=lang)
    campaign_id = campaign_id_for(issue.slug, filters)
    if at is not None and (test or dry_run):
        raise NewsletterError("--at schedules a real send; it cannot go with --test or --dry-run")
    send_at = _send_at(at)
    with _store(config) as store:
        if test:
            _send_test(issue, config, test, provider, dry_run)
        elif dry_run:
            _dry_run(issue, config, store, filters, campaign_id, eml_all)
        else:
            sha = hashlib.sha256(source.source.encode("utf-8")).hexdigest()
            _send_campaign(
                issue, config, store, filters, campaign_id, article, sha, provider, send_at, yes
            )


def campaign_id_for(slug: str, filters: Filters) -> str:
    """The same article to the same audience is the same campaign, however often it is run."""
    parts = [slug]
    if filters.tag:
        parts.append(f"tag-{filters.tag}")
    if filters.lang:
        parts.append(f"lang-{filters.lang}")
    return re.sub(r"[^A-Za-z0-9._-]+", "-", "--".join(parts))


@contextmanager
def _store(config: Settings) -> Iterator[Store]:
    from newsletter.audience.store import Store

    store = Store.open(config.database_url)
    try:
        yield store
    finally:
        store.close()


def _send_at(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise NewsletterError(
            f"--at {value!r} is not a time; write it like 2025-09-04T08:00+08:00"
        ) from None
    if when.tzinfo is None:
        raise NewsletterError(f"--at {value!r} has no time zone; add one, like +08:00 or Z")
    now = dt.datetime.now(dt.UTC)
    if not now <= when <= now + SEND_AT_LIMIT:
        raise NewsletterError(
            f"--at {value!r} must be in the next 72 hours (SendGrid's scheduling limit)"
        )
    return when


def _builder(issue: RenderedIssue, config: Settings, campaign_id: str, prefix: str = "") -> Any:
    from newsletter.mime import MessageBuilder

    return MessageBuilder(issue, config, campaign=campaign_id, subject_prefix=prefix)


def _dry_run(
    issue: RenderedIssue,
    config: Settings,
    store: Store,
    filters: Filters,
    campaign_id: str,
    eml_all: bool,
) -> None:
    from newsletter.delivery.runner import rehearse
    from newsletter.providers.dryrun import DryRunProvider

    folder = config.outbox_dir / campaign_id
    builder = _builder(issue, config, campaign_id)
    provider = DryRunProvider(builder, folder, eml_all=eml_all)
    try:
        with _progress() as (bar, advance):
            bar.update(bar.task_ids[0], total=store.count(_audience(filters)))
            summary = rehearse(store, filters, provider, builder, progress=advance)
    except BaseException:
        provider.close(keep=False)
        raise
    provider.close()
    console.print(
        f"Dry run of [bold]{escape(campaign_id)}[/]: {summary.sent} messages in {summary.batches} batches, "
        f"{provider.bytes / 1e6:.1f} MB; nobody was contacted and nobody is marked as sent."
    )
    console.print(f"Manifest and sample .eml files: {escape(str(folder))}/")


def _send_campaign(
    issue: RenderedIssue,
    config: Settings,
    store: Store,
    filters: Filters,
    campaign_id: str,
    article: Path,
    sha: str,
    provider_name: str | None,
    send_at: dt.datetime | None,
    yes: bool,
) -> None:
    from newsletter.delivery.journal import Journal
    from newsletter.delivery.lock import campaign_lock
    from newsletter.delivery.runner import run_campaign
    from newsletter.providers import open_provider

    if config.uses_example_secret:
        raise NewsletterError(
            "secret_key is the public example value: set NEWSLETTER_SECRET_KEY (for example in .env) before a real send"
        )
    name = provider_name or config.provider
    journal = Journal(store)
    existing = journal.find(campaign_id)
    if (
        send_at is None
        and existing
        and existing.send_at
        and existing.send_at > dt.datetime.now(dt.UTC)
    ):
        send_at = existing.send_at  # a scheduled campaign stays scheduled when it resumes
    builder = _builder(issue, config, campaign_id)
    provider = open_provider(name, config, builder, send_at=send_at)
    remaining = (
        journal.counts(campaign_id)["pending"]
        if existing
        else journal.audience_size(issue.slug, filters)
    )

    if not existing and remaining == 0:
        raise NewsletterError(
            "nobody to send to: no subscribed reader matches (and has not had this article); "
            "see `newsletter subscribers stats`. No campaign was started"
        )
    if existing and existing.article_sha != sha:
        console.print(
            "[yellow]The article changed since this campaign started; the rest get the new text.[/]"
        )
    _confirm(issue, config, name or "", campaign_id, remaining, existing is not None, yes)
    with campaign_lock(_lock_folder(config), campaign_id):
        journal.start(
            campaign_id=campaign_id,
            slug=issue.slug,
            article=str(article),
            subject=issue.subject,
            article_sha=sha,
            filters=filters,
            provider=name or "",
            send_at=send_at,
        )
        try:
            with _progress() as (bar, advance):
                bar.update(bar.task_ids[0], total=journal.counts(campaign_id)["pending"])
                summary = run_campaign(
                    journal,
                    campaign_id,
                    provider,
                    builder,
                    max_failures=config.max_consecutive_failures,
                    progress=advance,
                )
        finally:
            provider.close()
    _print_summary(summary, journal.counts(campaign_id), campaign_id)


def _lock_folder(config: Settings) -> Path:
    """Beside the SQLite file (or in the outbox folder for a server database)."""
    from sqlalchemy.engine.url import make_url

    url = make_url(config.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).parent
    return config.outbox_dir


def _send_test(
    issue: RenderedIssue,
    config: Settings,
    addresses: list[str],
    provider_name: str | None,
    dry_run: bool,
) -> None:
    from newsletter.delivery.testsend import send_test

    for outcome in send_test(
        issue, config, addresses, provider_name=provider_name, dry_run=dry_run
    ):
        console.print(f"[TEST] {escape(outcome.email)}: {escape(outcome.detail)}")


def _audience(filters: Filters) -> Filters:
    from newsletter.audience.models import Status
    from newsletter.audience.store import Filters

    return Filters(Status.SUBSCRIBED, filters.tag, filters.lang)


def _confirm(
    issue: RenderedIssue,
    config: Settings,
    provider: str,
    campaign_id: str,
    remaining: int,
    resuming: bool,
    yes: bool,
) -> None:
    table = Table(show_header=False, box=None)
    table.add_row("Subject", escape(issue.subject))
    table.add_row("From", escape(f"{config.sender_name} <{config.from_email}>"))
    table.add_row("Provider", provider)
    table.add_row("Campaign", escape(campaign_id) + (" (continuing)" if resuming else ""))
    table.add_row("Recipients", f"{remaining:,}" + (" still pending" if resuming else ""))
    console.print(table)
    if not yes and not typer.confirm("Send now?"):
        raise typer.Exit(1)


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f} msg/s" if task.speed else "", style="progress.data.speed")


@contextmanager
def _progress() -> Iterator[tuple[Progress, Any]]:
    columns = (
        TextColumn("sending"),
        BarColumn(),
        MofNCompleteColumn(),
        _Rate(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("send", total=None)
        yield bar, lambda n: bar.advance(task, n)


def _print_summary(summary: Summary, counts: dict[str, int], campaign_id: str) -> None:
    table = Table("", "this run", "campaign", title=f"campaign {campaign_id}")
    table.add_row("sent", str(summary.sent), str(counts["sent"]))
    table.add_row("skipped (left before their batch)", str(summary.skipped), str(counts["skipped"]))
    table.add_row("failed", str(summary.failed), str(counts["failed"]))
    table.add_row("uncertain", str(summary.uncertain), str(counts["uncertain"]))
    table.add_row("deferred by the provider, then retried", str(summary.deferred), "")
    table.add_row("still pending", "", str(counts["pending"]))
    console.print(table)
    if counts["failed"] or counts["uncertain"]:
        console.print(
            f"See who with `newsletter campaigns show {campaign_id}`; resend with "
            f"`newsletter campaigns retry {campaign_id} --failed` (or --uncertain, which may mail someone twice)."
        )


@campaigns_app.command("list")
def list_campaigns(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Every campaign with its counts per state."""
    from newsletter.delivery.journal import Journal

    with _store(settings()) as store:
        journal = Journal(store)
        data = [
            {"id": c.id, "status": c.status, "subject": c.subject, "counts": journal.counts(c.id)}
            for c in journal.campaigns()
        ]
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    table = Table("campaign", "status", "sent", "pending", "failed", "uncertain", "skipped")
    for c in data:
        n = c["counts"]
        table.add_row(
            escape(c["id"]),
            c["status"],
            *(str(n[k]) for k in ("sent", "pending", "failed", "uncertain", "skipped")),
        )
    console.print(table)


@campaigns_app.command()
def show(
    campaign_id: Annotated[str, typer.Argument(metavar="ID")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """A campaign's progress per state, what the provider reported, and who failed, was skipped or is uncertain."""
    from newsletter.delivery.journal import Journal

    with _store(settings()) as store:
        journal = Journal(store)
        campaign = journal.campaign(campaign_id)
        counts = journal.counts(campaign_id)
        delivery = journal.deliveries(campaign_id)
        problems = journal.recipients(
            campaign_id, ["failed", "uncertain", "sending", "skipped"], limit=1000
        )
    data = {
        "id": campaign.id,
        "status": campaign.status,
        "note": campaign.note,
        "subject": campaign.subject,
        "article": campaign.article,
        "counts": counts,
        "delivery": delivery,
        "recipients": problems,
    }
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    console.print(f"[bold]{escape(campaign.id)}[/] ({campaign.status}) {escape(campaign.subject)}")
    if campaign.note:
        console.print(f"[yellow]{escape(campaign.note)}[/]")
    console.print("  ".join(f"{state}: {count}" for state, count in counts.items()))
    console.print(_delivery_line(delivery))
    if problems:
        table = Table("address", "state", "reason")
        for row in problems:
            table.add_row(
                escape(row["email"] or "(erased)"), row["state"], escape(row["reason"] or "")
            )
        console.print(table)


def _delivery_line(delivery: dict[str, int]) -> str:
    """Delivered and bounced always (0 until the provider's events arrive), the rest when any."""
    shown = {
        state: count
        for state, count in delivery.items()
        if count or state in ("delivered", "bounced")
    }
    return "provider reported  " + "  ".join(f"{state}: {count}" for state, count in shown.items())


@campaigns_app.command()
def retry(
    campaign_id: Annotated[str, typer.Argument(metavar="ID")],
    failed: Annotated[
        bool, typer.Option("--failed", help="Resend to recipients whose send failed.")
    ] = False,
    uncertain: Annotated[
        bool,
        typer.Option(
            "--uncertain",
            help="Resend to recipients in flight at a crash (they may get two copies).",
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Send the campaign again to its failed and/or uncertain recipients only."""
    from newsletter.delivery.journal import Journal

    if not failed and not uncertain:
        raise NewsletterError("say what to resend: --failed, --uncertain or both")
    with _store(settings()) as store:
        journal = Journal(store)
        campaign = journal.campaign(campaign_id)
        counts = journal.counts(campaign_id)
        waiting = (counts["failed"] if failed else 0) + (counts["uncertain"] if uncertain else 0)
        if not yes and not typer.confirm(f"Send {campaign_id} again to {waiting} recipient(s)?"):
            raise typer.Exit(1)
        moved = journal.retry(campaign_id, failed=failed, uncertain=uncertain)
    console.print(f"{moved} recipient(s) of {escape(campaign_id)} are pending again")
    tag, lang = campaign.filters.get("tag"), campaign.filters.get("lang")
    send(Path(campaign.article), tag=tag, lang=lang, provider=campaign.provider or None, yes=True)
