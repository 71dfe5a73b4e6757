"""`newsletter campaigns ...` and `newsletter worker`: progress, retries, schedules, cancelling."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from newsletter.cli.context import (
    confirm,
    console,
    counted,
    err_console,
    open_store,
    roomy,
    settings,
)
from newsletter.cli.send import run_with_progress
from newsletter.errors import NewsletterError

if TYPE_CHECKING:
    from newsletter.delivery.issues import IssueRecord
    from newsletter.delivery.worker import DueRun

__all__ = ["app", "worker"]

app = typer.Typer(
    help="Campaign progress per recipient, retries, schedules and cancelling.",
    no_args_is_help=True,
)

CampaignArgument = Annotated[
    str,
    typer.Argument(
        metavar="CAMPAIGN", help="A campaign id, or its label such as 'slug (lang en)'."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
YesOption = Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")]


@app.command("list")
def list_campaigns(as_json: JsonOption = False) -> None:
    """Every campaign with its issue, status, time and counts per state."""
    from newsletter.delivery.issues import Issues
    from newsletter.delivery.journal import Journal
    from newsletter.delivery.states import segment_of

    with open_store() as store:
        journal = Journal(store)
        slugs = {issue.id: issue.slug for issue in Issues(store).all()}
        data: list[dict[str, Any]] = [
            {
                "id": c.id,
                "label": c.label,
                "issue": c.issue_id,
                "slug": slugs.get(c.issue_id),
                "status": c.status,
                "send_at": c.send_at.isoformat() if c.send_at else None,
                "started_at": c.started_at.isoformat() if c.started_at else None,
                "segment": segment_of(c.audience),
                "subject": c.subject,
                "counts": journal.counts(c.id),
            }
            for c in journal.campaigns()
        ]
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    rows = [_row(c) for c in data]
    if not roomy():
        for row in rows:
            console.print(f"[bold]{row[0]}[/]  {row[3]}  {row[4]}".rstrip())
            console.print(f"  {row[1]} ({row[2]})")
            others = f", {row[7]}" if row[7] else ""
            console.print(f"  {row[5] or 'no'} readers: {row[6]} sent{others}")
        return
    table = Table("campaign", "issue", "audience", "status", "when", "readers", "sent", "other")
    for column in table.columns:
        column.overflow = "fold"  # wrap, never cut: ids and slugs are copied from here
    for column in (table.columns[0], table.columns[3], table.columns[4]):
        column.no_wrap = True
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _row(c: dict[str, Any]) -> list[str]:
    """A campaign as `campaigns list` shows it, escaped for Rich."""
    from newsletter.delivery.states import CampaignStatus

    n = c["counts"]
    when = c["send_at"] if c["status"] == CampaignStatus.SCHEDULED else c["started_at"]
    return [
        escape(c["id"]),
        escape(c["slug"] or c["issue"]),
        escape(c["segment"] or "everyone"),
        c["status"],
        (when[:16].replace("T", " ") + " UTC") if when else "",
        str(sum(n.values())) if c["started_at"] else "",
        str(n["sent"]),
        ", ".join(f"{count} {state}" for state, count in n.items() if count and state != "sent"),
    ]


@app.command()
def show(campaign: CampaignArgument, as_json: JsonOption = False) -> None:
    """A campaign's progress per state, what the provider reported, and who failed, was skipped or is uncertain."""
    from newsletter.delivery.campaign import resolve
    from newsletter.delivery.issues import Issues
    from newsletter.delivery.journal import Journal
    from newsletter.delivery.reputation import rates_of
    from newsletter.delivery.states import RowState

    with open_store() as store:
        journal = Journal(store)
        found = resolve(journal, campaign)
        issue = Issues(store).get(found.issue_id)
        counts = journal.counts(found.id)
        problems = journal.recipients(
            found.id,
            [RowState.FAILED, RowState.UNCERTAIN, RowState.SENDING, RowState.SKIPPED],
            limit=1000,
        )
        data: dict[str, Any] = {
            "id": found.id,
            "label": found.label,
            "issue": issue.id,
            "status": found.status,
            "note": found.note,
            "forced": found.forced,
            "forced_for": sorted(found.override.codes) if found.override else [],
            "send_at": found.send_at,
            "subject": found.subject,
            "article": issue.article,
            "article_changed": _file_changed(issue.article, issue.source_sha),
            "counts": counts,
            "sent_by_edition": journal.sent_by_edition(found.id, _original_lang(issue)),
            "confirmed_by_provider": journal.confirmed(found.id),
            "delivery": journal.deliveries(found.id) if found.provider != "smtp" else None,
            "recipients": problems,
        }
        rates = rates_of(store, found)
        data["rates"] = {
            "complaint_rate": rates.complaint_rate,
            "bounce_rate": rates.bounce_rate,
            "unsubscribed": rates.unsubscribed,
            "unsubscribe_rate": rates.unsubscribe_rate,
            "warnings": [
                {"level": f.severity, "message": f"{f.message}: {f.fix}"} for f in rates.findings()
            ],
        }
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    _print_campaign(data)


def _original_lang(issue: IssueRecord) -> str:
    """The language of the issue's original edition ("?" for issues from before snapshots)."""
    return str((issue.rendered or {}).get("lang") or "?")


def _print_campaign(data: dict[str, Any]) -> None:
    console.print(
        f"[bold]{escape(data['id'])}[/] {escape(data['label'])} ({data['status']}) "
        f"{escape(data['subject'])}"
    )
    console.print(f"issue {escape(data['issue'])} from {escape(data['article'])}")
    if data["send_at"] is not None:
        console.print(f"scheduled for {data['send_at']:%Y-%m-%d %H:%M} UTC")
    if data["article_changed"]:
        console.print(
            "[yellow]the article file changed since the issue was sent; readers who have not "
            "had it get the version sent (`send --update-content` changes that)[/]"
        )
    if data["note"]:
        console.print(f"[yellow]{escape(data['note'])}[/]")
    if data["forced"]:
        codes = ", ".join(data["forced_for"])
        console.print(f"[yellow]sent despite QA errors ({codes}): {escape(data['forced'])}[/]")
    console.print("  ".join(f"{state}: {count}" for state, count in data["counts"].items()))
    if len(data["sent_by_edition"]) > 1:
        editions = ", ".join(f"{n:,} {lang}" for lang, n in data["sent_by_edition"].items())
        console.print(f"sent by edition: {escape(editions)}")
    if data["confirmed_by_provider"]:
        console.print(
            f"{counted(data['confirmed_by_provider'], 'uncertain recipient')} settled by the provider's events"
        )
    if data["delivery"] is None:
        console.print("delivery events: not available over SMTP (only what the server answered)")
    else:
        console.print(_delivery_line(data["delivery"]))
    _print_rates(data["rates"])
    if data["recipients"]:
        table = Table("address", "state", "reason")
        for row in data["recipients"]:
            table.add_row(
                escape(row["email"] or "(erased)"), row["state"], escape(row["reason"] or "")
            )
        console.print(table)


def _print_rates(rates: dict[str, Any]) -> None:
    from newsletter.delivery.reputation import percent

    console.print(
        f"unsubscribed: {rates['unsubscribed']} ({percent(rates['unsubscribe_rate'])})  "
        f"bounce rate: {percent(rates['bounce_rate'])}  "
        f"complaint rate: {percent(rates['complaint_rate'])}  (`campaigns report` for more)"
    )
    for warning in rates["warnings"]:
        colour = "red" if warning["level"] == "error" else "yellow"
        err_console.print(f"[{colour}]{warning['level']}:[/] {escape(warning['message'])}")


def _file_changed(article: str, sha: str) -> bool:
    """Whether the issue's files on disk (the article and the editions written beside it) now
    differ from what the issue sent (False when the article is gone)."""
    from newsletter.compose.article import read_article
    from newsletter.compose.editions import article_editions
    from newsletter.delivery.issues import editions_sha

    try:
        return editions_sha(article_editions(read_article(Path(article)), settings())) != sha
    except NewsletterError:
        return False


def _delivery_line(delivery: dict[str, int]) -> str:
    """Delivered and bounced always (0 until the provider's events arrive), the rest when any."""
    shown = {
        state: count
        for state, count in delivery.items()
        if count or state in ("delivered", "bounced")
    }
    return "provider reported  " + "  ".join(f"{state}: {count}" for state, count in shown.items())


@app.command()
def retry(
    campaign: CampaignArgument,
    failed: Annotated[
        bool, typer.Option("--failed", help="Resend to recipients whose send failed.")
    ] = False,
    uncertain: Annotated[
        bool,
        typer.Option(
            "--uncertain",
            help="Resend to recipients in flight at a crash that no provider event settled "
            "(they may get two copies).",
        ),
    ] = False,
    yes: YesOption = False,
) -> None:
    """Send the campaign again to its failed and/or uncertain recipients only, as it was sent."""
    from newsletter.delivery.campaign import resolve
    from newsletter.delivery.journal import Journal
    from newsletter.delivery.states import RowState

    if not failed and not uncertain:
        raise NewsletterError("say what to resend: --failed, --uncertain or both")
    config = settings()
    with open_store(config) as store:
        journal = Journal(store)
        found = resolve(journal, campaign)
        counts = journal.counts(found.id)
        waiting = (counts[RowState.FAILED] if failed else 0) + (
            counts[RowState.UNCERTAIN] if uncertain else 0
        )
        confirm(f"Send {found.id} ({found.label}) again to {counted(waiting, 'recipient')}?", yes)
        moved = journal.retry(found.id, failed=failed, uncertain=uncertain)
        console.print(f"{counted(moved, 'recipient')} of {escape(found.id)} pending again")
        run_with_progress(store, config, found.id)


@app.command()
def resume(campaign: CampaignArgument, yes: YesOption = False) -> None:
    """Continue a paused or interrupted campaign now (a scheduled one: send it now)."""
    from newsletter.delivery.campaign import resolve
    from newsletter.delivery.journal import Journal

    config = settings()
    with open_store(config) as store:
        found = resolve(Journal(store), campaign)
        confirm(f"Continue {found.id} ({found.label}) now?", yes)
        run_with_progress(store, config, found.id)


@app.command()
def cancel(campaign: CampaignArgument, yes: YesOption = False) -> None:
    """Stop a scheduled or running campaign: nothing further is claimed.

    A batch already with the provider finishes. Readers it had not reached stay free for another campaign of the same issue.
    """
    from newsletter.delivery.campaign import resolve
    from newsletter.delivery.journal import Journal

    with open_store() as store:
        journal = Journal(store)
        found = resolve(journal, campaign)
        confirm(f"Cancel {found.id} ({found.label})?", yes)
        stopped = journal.cancel(found.id)
    console.print(
        f"Cancelled {escape(found.id)} ({escape(found.label)}): {counted(stopped, 'reader')} it had not "
        "reached will not get the issue from it."
    )


@app.command("run-due")
def run_due() -> None:
    """Send every scheduled campaign whose time has come, and continue interrupted ones.

    For cron or a systemd timer (see docs/operations.md). Exits 1 when a campaign could not be sent.
    """
    import signal
    import threading

    from newsletter.delivery.worker import run_due as deliver_due

    config = settings()
    stop = (
        threading.Event()
    )  # SIGTERM (a timeout, a reboot): stop between batches, resume next time
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    with open_store(config) as store:
        runs = deliver_due(store, config, should_stop=stop.is_set)
    _report(runs)
    if any(run.problem and not run.busy for run in runs):
        raise typer.Exit(1)


def worker(
    interval: Annotated[
        float, typer.Option(min=1.0, help="Seconds between looks for due campaigns.")
    ] = 60.0,
) -> None:
    """Run `campaigns run-due` every --interval seconds, for a process supervisor.

    SIGTERM or Ctrl-C stops it between batches, so no batch is left uncertain; the next start continues the campaign.
    """
    import signal
    import threading

    from newsletter.delivery.worker import work

    config = settings()
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        err_console.print(f"{signal.Signals(signum).name}: stopping after the current batch")
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)
    console.print(f"worker: looking for due campaigns every {interval:g} s")
    with open_store(config) as store:
        work(store, config, interval=interval, stop=stop, report=_report)


def _report(runs: list[DueRun]) -> None:
    for run in runs:
        name = f"{run.campaign.id} ({run.campaign.label})"
        if run.summary is not None:
            s = run.summary
            console.print(
                escape(
                    f"{name}: sent {s.sent}, failed {s.failed}, uncertain {s.uncertain}, "
                    f"skipped {s.skipped}" + (" (stopped between batches)" if s.stopped else "")
                )
            )
        elif run.busy:
            console.print(escape(f"{name}: another process is sending it"))
        else:
            err_console.print(f"[red]{escape(name)}: {escape(run.problem or '')}[/]")
