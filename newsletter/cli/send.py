"""`newsletter send`: parse, confirm and print; newsletter/delivery/campaign.py does the work."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from newsletter.cli.context import confirm, console, counted, open_store, settings
from newsletter.cli.segment import AllTagsOption, LangOption, TagsOption
from newsletter.errors import NewsletterError

if TYPE_CHECKING:
    from newsletter.audience.models import Filters
    from newsletter.audience.store import Store
    from newsletter.config import Settings
    from newsletter.delivery.campaign import Content, Plan
    from newsletter.delivery.gate import Examination
    from newsletter.delivery.runner import Summary
    from newsletter.delivery.states import Override, RowState
    from newsletter.qa.findings import Finding

__all__ = ["print_summary", "run_with_progress", "send"]


def send(
    article: Annotated[Path, typer.Argument(help="The article to send.")],
    tag: TagsOption = None,
    all_tags: AllTagsOption = False,
    lang: LangOption = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Build every message into outbox/<slug>/; contact nobody."),
    ] = False,
    test: Annotated[
        list[str] | None,
        typer.Option(
            "--test",
            metavar="ADDRESS",
            help="Send only to this address, subject marked [TEST]; repeatable.",
        ),
    ] = None,
    provider: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="sendgrid or smtp \\[default: the provider setting]."),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            metavar="TIME",
            help="Schedule for this time: ISO 8601 with an offset (2025-09-05T08:00+08:00), "
            "or a local time with --tz. `campaigns run-due` or `worker` sends it then.",
        ),
    ] = None,
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz",
            metavar="ZONE",
            help="Time zone of --at, such as Asia/Hong_Kong \\[default: the timezone setting].",
        ),
    ] = None,
    force: Annotated[
        str | None,
        typer.Option(
            "--force",
            metavar="REASON",
            help="Send despite QA errors; the reason is stored with the campaign.",
        ),
    ] = None,
    new_issue: Annotated[
        bool,
        typer.Option(
            "--new-issue", help="This file is a new issue, not the one it was sent as before."
        ),
    ] = False,
    update_content: Annotated[
        bool,
        typer.Option(
            "--update-content",
            help="Readers who have not had the issue yet get the file as it is now.",
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    eml_all: Annotated[
        bool, typer.Option("--eml-all", help="With --dry-run: an .eml for every recipient.")
    ] = False,
) -> None:
    """Send ARTICLE to every subscribed reader (or --tag/--lang) who has not had it, exactly once.

    Running it again continues the same campaign. Whatever the campaigns (segments, retries, schedules, several processes), each reader gets one copy of the issue. Refuses a message with QA errors (`newsletter check`) unless --force says why.
    """
    from newsletter.audience.models import Filters

    config = settings()
    filters = Filters(tags=tuple(tag or ()), lang=lang, all_tags=all_tags)
    if test:
        if at or dry_run or force:
            raise NewsletterError(
                "--test sends now to the given addresses only; drop --at, --dry-run and --force"
            )
        _send_test(article, config, test, provider)
        return
    with open_store(config) as store:
        if dry_run:
            if at is not None:
                _rehearse_schedule(config, at, tz)
            _dry_run(store, config, article, filters, force, new_issue, update_content, eml_all)
        else:
            _send(store, config, article, filters, provider, at, tz, force, new_issue, update_content, yes)  # fmt: skip


def _send(
    store: Store,
    config: Settings,
    article: Path,
    filters: Filters,
    provider: str | None,
    at: str | None,
    tz: str | None,
    force: str | None,
    new_issue: bool,
    update_content: bool,
    yes: bool,
) -> None:
    from newsletter.audience.queries import now
    from newsletter.delivery.campaign import commit, plan_send
    from newsletter.delivery.gate import override_for
    from newsletter.delivery.schedule import parse_when
    from newsletter.delivery.states import CampaignStatus

    zone = tz or config.timezone
    send_at = parse_when(at, zone, now=now()) if at else None
    plan = plan_send(
        store, config, article, filters,
        provider=provider, send_at=send_at, new_issue=new_issue, update_content=update_content,
    )  # fmt: skip
    # Someone reading the confirmation, a schedule or a --force can wait for SpamAssassin's
    # score; otherwise it is checked before the first message, while the campaign is prepared.
    complete = not yes or send_at is not None or force is not None
    findings = plan.examination.findings() if complete else plan.examination.rules
    override = override_for(force, findings)
    kept = plan.campaign.override if plan.campaign and not plan.content.new_snapshot else None
    _refuse_errors(findings, override or kept)
    _confirm(plan, findings, complete, config, zone, override or kept, yes)
    campaign = commit(store, plan, override=override)
    if campaign.status == CampaignStatus.SCHEDULED:
        console.print(
            f"Scheduled [bold]{escape(campaign.id)}[/] ({escape(campaign.label)}). Nothing is "
            "sent until `newsletter campaigns run-due` (cron, a systemd timer) or `newsletter "
            f"worker` runs after that time; `newsletter campaigns cancel {campaign.id}` stops it."
        )
        return
    run_with_progress(store, config, campaign.id, examination=plan.examination)


def _rehearse_schedule(config: Settings, at: str, tz: str | None) -> None:
    """A dry run with --at checks the time and says when it would go; it records nothing."""
    from newsletter.audience.queries import now
    from newsletter.delivery.schedule import describe, parse_when

    zone = tz or config.timezone
    when = describe(parse_when(at, zone, now=now()), zone)
    console.print(f"Would be scheduled for {when}; the dry run builds the messages as of now.")


def _dry_run(
    store: Store,
    config: Settings,
    article: Path,
    filters: Filters,
    force: str | None,
    new_issue: bool,
    update_content: bool,
    eml_all: bool,
) -> None:
    from newsletter.delivery.campaign import content_for
    from newsletter.delivery.gate import inspect, override_for
    from newsletter.delivery.journal import Journal
    from newsletter.delivery.runner import rehearse
    from newsletter.providers.dryrun import DryRunProvider
    from newsletter.render.mime import MessageBuilder

    content = content_for(
        store, config, article, new_issue=new_issue, update_content=update_content
    )
    name = outbox_name(content.rendered.slug, filters)
    builder = MessageBuilder(content.editions, config, campaign=f"dry-run-{name}")
    findings = inspect(content.articles, builder, config).findings()
    _refuse_errors(findings, override_for(force, findings))
    _print_content(content)
    folder = config.outbox_dir / name
    outbox = DryRunProvider(builder, folder, eml_all=eml_all)
    from newsletter.cli.progress import sending_bar

    try:
        issue_id = content.issue.id if content.issue else None
        with sending_bar() as (bar, advance):
            total = Journal(store).audience_size(issue_id, filters)
            bar.update(bar.task_ids[0], total=total)
            summary = rehearse(store, filters, outbox, builder, issue_id=issue_id, progress=advance)
    except BaseException:
        outbox.close(keep=False)
        raise
    outbox.close()
    console.print(
        f"Dry run of [bold]{escape(name)}[/]: {counted(summary.sent, 'message')}"
        + (
            f" ({', '.join(f'{n:,} {lang}' for lang, n in outbox.editions.items())})"
            if len(outbox.editions) > 1
            else ""
        )
        + " in "
        f"{counted(summary.batches, 'batch')}, "
        f"{outbox.bytes / 1e6:.1f} MB; nobody was contacted and nobody is marked as sent."
    )
    console.print(f"Manifest and sample .eml files: {escape(str(folder))}/")


def outbox_name(slug: str, filters: Filters) -> str:
    """The dry run's folder: the slug and filters, readable, and distinct for distinct filters."""
    parts = [slug]
    tag_name = "all-tags-" if filters.all_tags and len(filters.tags) > 1 else "tag-"
    tags = "+".join(t.lower() for t in filters.tags)
    for name, value in ((tag_name, tags), ("lang-", filters.lang or "")):
        if value:
            plain = re.fullmatch(r"[\w.]+([-+][\w.]+)*", value)
            parts.append(f"{name}{value if plain else _digest(value)}")
    return "--".join(parts)


def _digest(value: str) -> str:
    import hashlib

    return "h" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:10]


def _refuse_errors(findings: list[Finding], override: Override | None) -> None:
    from newsletter.delivery.gate import Refused, enforce

    try:
        enforce(findings, override)
    except Refused as refused:
        from newsletter.cli.compose import print_findings

        print_findings(refused.findings)
        raise


def _send_test(article: Path, config: Settings, addresses: list[str], provider: str | None) -> None:
    from newsletter.compose.article import read_article
    from newsletter.compose.editions import article_editions
    from newsletter.delivery.testsend import send_test
    from newsletter.render.editions import render_editions

    editions = render_editions(article_editions(read_article(article), config), config)
    several = len(editions.langs) > 1
    for outcome in send_test(editions, config, addresses, provider_name=provider):
        edition = f" ({outcome.edition} edition)" if several else ""
        console.print(f"[TEST] {escape(outcome.email)}{edition}: {escape(outcome.detail)}")


def _print_content(content: Content) -> None:
    """Say which version of the issue goes out when the file and the issue disagree."""
    if content.file_changed:
        console.print(
            f"[yellow]{escape(str(content.article.path))} changed since issue {content.issue.id if content.issue else ''} "
            "was first sent: readers who have not had it get the version already sent. Send the "
            "file instead with --update-content; if it is another issue, use --new-issue.[/]"
        )
    elif content.issue is not None and content.new_snapshot:
        console.print(
            "[yellow]Readers who have not had this issue yet get the file as it is now.[/]"
        )


def _confirm(
    plan: Plan,
    findings: list[Finding],
    complete: bool,
    config: Settings,
    zone: str | None,
    override: Override | None,
    yes: bool,
) -> None:
    from newsletter.delivery.schedule import describe
    from newsletter.delivery.states import segment_of

    content, campaign = plan.content, plan.campaign
    _print_content(content)
    table = Table(show_header=False, box=None)
    issue = content.issue
    table.add_row(
        "Issue",
        escape(f"{issue.id} {issue.slug}, first sent {issue.created_at:%Y-%m-%d}")
        if issue
        else escape(f"{content.rendered.slug} (new)"),
    )
    table.add_row("Subject", escape(content.rendered.subject))
    table.add_row("From", escape(f"{config.sender_name} <{config.from_email}>"))
    table.add_row("Provider", plan.provider)
    table.add_row("List", escape(config.database_label))
    table.add_row("Segment", escape(segment_of(plan.filters) or "every subscribed reader"))
    if campaign is None:
        table.add_row("Campaign", escape(f"{plan.campaign_id} (new)"))
    else:
        table.add_row("Campaign", escape(f"{campaign.id} {campaign.label} (continuing)"))
    resuming = campaign is not None and plan.send_at is None
    table.add_row(
        "Recipients",
        escape(f"{plan.remaining:,}" + (" still pending" if resuming else "") + _by_language(plan)),
    )
    table.add_row("When", describe(plan.send_at, zone) if plan.send_at else "now")
    errors = sum(f.severity == "error" for f in findings)
    qa = f"{counted(errors, 'error')}, {counted(len(findings) - errors, 'warning')}"
    if not complete:
        qa += "; the spam score is checked before the first message"
    forced = f"; sent anyway: {override.reason}" if override and errors else ""
    table.add_row("QA", escape(qa + forced))
    console.print(table)
    question = "Schedule it?" if plan.send_at else "Send now?"
    confirm(question, yes)


def _by_language(plan: Plan) -> str:
    """Who reads what: by edition when the issue has several, else by language."""
    from newsletter.languages import canonical

    editions = plan.content.editions
    if len(editions.langs) > 1:
        parts = []
        for edition, n in plan.editions.items():
            without = [  # readers of a language with no edition of its own
                f"{count:,} {lang}"
                for lang, count in plan.languages.items()
                if lang != "?"
                and editions.pick(lang) == edition
                and edition not in (canonical(lang), canonical(lang).split("-")[0])
            ]
            note = f" ({', '.join(without)}: no edition of theirs)" if without else ""
            parts.append(f"{n:,} get {edition}{note}")
        return f": {', '.join(parts)}" if parts else ""
    languages = ", ".join(f"{n:,} {lang}" for lang, n in plan.languages.items())
    return (f": {languages}" if languages else "") + f"; this issue is {plan.content.rendered.lang}"


def run_with_progress(
    store: Store, config: Settings, campaign_id: str, *, examination: Examination | None = None
) -> None:
    """Deliver a campaign with a progress bar, then print what happened.

    Everything loaded so far (modules, settings, the rendered issue) lives until the command
    ends: gc.freeze() keeps the collector from walking it again at every full collection.
    """
    import gc

    from newsletter.cli.compose import print_findings
    from newsletter.cli.progress import sending_bar
    from newsletter.delivery.campaign import deliver
    from newsletter.delivery.gate import Refused
    from newsletter.delivery.journal import Journal
    from newsletter.delivery.states import CampaignStatus

    gc.freeze()
    try:
        with sending_bar() as (bar, advance), _sigterm_as_interrupt():
            summary = deliver(
                store,
                config,
                campaign_id,
                examination=examination,
                on_total=lambda total: bar.update(bar.task_ids[0], total=total),
                progress=advance,
                on_batch=_log_batch,
                on_wait=_log_wait,
            )
    except Refused as refused:
        print_findings(refused.findings)
        raise
    journal = Journal(store)
    print_summary(summary, journal.counts(campaign_id), campaign_id)
    if journal.campaign(campaign_id).status == CampaignStatus.CANCELLED:
        console.print(f"[yellow]Campaign {escape(campaign_id)} was cancelled while it ran.[/]")


def _log_batch(batch: int, summary: Summary) -> None:
    """Without a terminal (cron, a log file) there is no bar: a line per batch instead."""
    if not console.is_terminal:
        console.print(
            f"batch {batch}: {summary.sent} sent, {summary.failed} failed, "
            f"{summary.deferred} deferred, {summary.uncertain} uncertain, "
            f"{summary.skipped} skipped so far"
        )


def _log_wait(seconds: float, deferred: int, reason: str) -> None:
    from newsletter.delivery.states import MAX_ATTEMPTS

    console.print(
        f"waiting {seconds:g} s: {counted(deferred, 'reader')} deferred by the provider "
        f"({escape(reason)}); each is tried up to {MAX_ATTEMPTS} times"
    )


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a `timeout`, a service stop) pauses the campaign as Ctrl-C does."""
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def print_summary(summary: Summary, counts: dict[RowState, int], campaign_id: str) -> None:
    from newsletter.delivery.states import RowState

    table = Table("", "this run", "campaign", title=f"campaign {campaign_id}")
    table.add_row("sent", str(summary.sent), str(counts[RowState.SENT]))
    table.add_row(
        "skipped (left before their batch, or had the issue)",
        str(summary.skipped),
        str(counts[RowState.SKIPPED]),
    )
    table.add_row("failed", str(summary.failed), str(counts[RowState.FAILED]))
    table.add_row("uncertain", str(summary.uncertain), str(counts[RowState.UNCERTAIN]))
    table.add_row("deferred by the provider, then retried", str(summary.deferred), "")
    table.add_row("still pending", "", str(counts[RowState.PENDING]))
    console.print(table)
    if summary.stopped:
        console.print("Stopped between batches; `newsletter campaigns resume` continues it.")
    if counts[RowState.FAILED] or counts[RowState.UNCERTAIN]:
        console.print(
            f"See who with `newsletter campaigns show {campaign_id}`; resend with "
            f"`newsletter campaigns retry {campaign_id} --failed` (or --uncertain, which may mail someone twice)."
        )
