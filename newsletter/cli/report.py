"""`newsletter campaigns report` and `newsletter report`: after the send, in numbers and charts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from newsletter.cli.campaigns import CampaignArgument, JsonOption
from newsletter.cli.context import console, err_console, open_store, settings
from newsletter.errors import NewsletterError

if TYPE_CHECKING:
    from newsletter.reports.audience import ListReport
    from newsletter.reports.campaign import CampaignReport

    Report = CampaignReport | ListReport

__all__ = ["campaign_report", "list_report"]

HtmlOption = Annotated[
    Path | None,
    typer.Option(
        "--html",
        metavar="FILE",
        help="Also write the report with charts as one self-contained HTML file.",
    ),
]


def campaign_report(
    campaign: CampaignArgument,
    html: HtmlOption = None,
    as_json: JsonOption = False,
) -> None:
    """What became of a campaign: delivered, bounced, complaints, unsubscribes, clicks and the top links."""
    from newsletter.delivery.campaign import resolve
    from newsletter.delivery.journal import Journal
    from newsletter.reports.campaign import campaign_report as build

    with open_store() as store:
        found = resolve(Journal(store), campaign)
        report = build(store, found.id, early_seconds=settings().machine_click_seconds)
    _output(report, html, as_json, _print_campaign)


def list_report(html: HtmlOption = None, as_json: JsonOption = False) -> None:
    """The list as a whole: subscribers by status over time, sign-ups and departures per week."""
    from newsletter.reports.audience import list_report as build

    with open_store() as store:
        report = build(store)
    _output(report, html, as_json, _print_list)


def _output(report: Report, html: Path | None, as_json: bool, show: Callable[[Any], None]) -> None:
    """The page first (so a failure to write it is the only output), then JSON or the table."""
    if html is not None:
        from newsletter.reports.page import page_for

        _write(html, page_for(report))
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    show(report)
    if html is not None:
        console.print(f"wrote {escape(str(html))}")


def _print_campaign(report: CampaignReport) -> None:
    from newsletter.delivery.reputation import percent

    console.print(f"[bold]{escape(report.campaign)}[/] {escape(report.label)} ({report.status})")
    console.print(escape(report.subject))
    table = Table("", "readers", "rate", box=None)
    table.add_row("sent", str(report.sent), "")
    if report.events:
        table.add_row("delivered", str(report.delivered), "")
    table.add_row("bounced", str(report.bounced), percent(report.bounce_rate))
    table.add_row("complained", str(report.complained), percent(report.complaint_rate))
    table.add_row("unsubscribed", str(report.unsubscribed), percent(report.unsubscribe_rate))
    table.add_row("clicks by readers", str(report.clicks), "")
    machines = sum(report.machine_clicks.values())
    detail = ", ".join(f"{kind} {n}" for kind, n in report.machine_clicks.items() if n)
    table.add_row("clicks by machines", str(machines), detail)
    console.print(table)
    if not report.events:
        console.print(f"no delivery events from {report.provider}: rates are over messages sent")
    if report.links:
        links = Table("link", "clicks", "machines", title="top links")
        for link in report.links[:10]:
            links.add_row(escape(link.url), str(link.clicks), str(link.machine_clicks))
        console.print(links)
    for line in report.errors:
        err_console.print(f"[red]error:[/] {escape(line)}")
    for line in report.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(line)}")


def _print_list(report: ListReport) -> None:
    console.print("  ".join(f"{status}: {count}" for status, count in report.by_status.items()))
    table = Table("week", "joined", "left", "imported", title="the last weeks")
    for week in report.weeks[-8:]:
        table.add_row(week.week, str(week.joined), str(week.left), str(week.imported))
    console.print(table)


def _write(path: Path, page: str) -> None:
    """Write the page; a file that is not an earlier report is never replaced."""
    from newsletter.atomic import write_file
    from newsletter.reports.page import GENERATOR

    if path.exists() and (
        not path.is_file()
        or GENERATOR not in path.read_text(encoding="utf-8", errors="replace")[:2000]
    ):
        raise NewsletterError(
            f"{path} exists and is not a report newsletter wrote; choose another file name"
        )
    write_file(path, page.encode("utf-8"))
