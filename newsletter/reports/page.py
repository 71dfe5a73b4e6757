"""The reports as one self-contained HTML file each: inline SVG charts, their numbers in tables.

The file loads nothing (its Content-Security-Policy forbids it), so it can be mailed, archived
or opened offline. Each chart has a title, a sentence saying what it shows, and the numbers it
was drawn from in a table, for screen readers and for copying.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jinja2

from newsletter.delivery.reputation import (
    BOUNCE_WARNING,
    COMPLAINT_ERROR,
    COMPLAINT_WARNING,
    percent,
)
from newsletter.reports import charts
from newsletter.reports.audience import ListReport
from newsletter.reports.campaign import CampaignReport

__all__ = ["GENERATOR", "campaign_page", "list_page", "page_for"]

GENERATOR = "newsletter report"
"""In every page's generator meta tag: how `--html` knows a file it may replace."""
MAX_HOURS = 14 * 24
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    summary: str
    """The text alternative: what the chart shows, in a sentence."""
    svg: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]


def page_for(report: CampaignReport | ListReport) -> str:
    return campaign_page(report) if isinstance(report, CampaignReport) else list_page(report)


def campaign_page(report: CampaignReport) -> str:
    figures = [*_timeline(report), _links(report), *_compared(report)]
    return _ENV.get_template("report.html.j2").render(
        generator=GENERATOR,
        title=f"{report.subject}: report",
        heading=report.subject,
        subtitle=f"{report.label} · campaign {report.campaign} · {report.status}",
        summary=_summary(report),
        errors=report.errors,
        warnings=report.warnings,
        note=None
        if report.events
        else f"{report.provider} reports no delivery events: rates are over messages sent.",
        figures=[f for f in figures if f is not None],
    )


def list_page(report: ListReport) -> str:
    weeks = [w.week for w in report.weeks]
    shown = [s for s in report.by_status if any(w.by_status[s] for w in report.weeks)]
    by_status = {s: [float(w.by_status[s]) for w in report.weeks] for s in shown}
    joined_form = [float(w.joined - w.imported) for w in report.weeks]
    figures = []
    if weeks:
        figures = [
            Figure(
                "status",
                "Readers by status, at the end of each week",
                _sentence("readers by status", weeks, by_status, last=True),
                charts.lines("status", weeks, by_status, xlabel="week", ylabel="readers"),
                ["week", *shown],
                [[w.week, *(str(w.by_status[s]) for s in shown)] for w in report.weeks],
            ),
            Figure(
                "weeks",
                "Sign-ups and departures per week (imports marked)",
                _sentence(
                    "people",
                    weeks,
                    {
                        "joined": [float(w.joined) for w in report.weeks],
                        "left": [float(w.left) for w in report.weeks],
                    },
                ),
                charts.bars(
                    "weeks",
                    weeks,
                    {
                        "joined": joined_form,
                        "joined by import": [float(w.imported) for w in report.weeks],
                        "left": [float(w.left) for w in report.weeks],
                    },
                    xlabel="readers",
                ),
                ["week", "joined", "of whom imported", "left"],
                [[w.week, str(w.joined), str(w.imported), str(w.left)] for w in report.weeks],
            ),
        ]
    return _ENV.get_template("report.html.j2").render(
        generator=GENERATOR,
        title="The list: report",
        heading="The list",
        subtitle=f"{sum(report.by_status.values())} readers",
        summary=[(status, str(count), "") for status, count in report.by_status.items()],
        errors=[],
        warnings=[],
        note=None if weeks else "No history yet.",
        figures=figures,
    )


def _summary(report: CampaignReport) -> list[tuple[str, str, str]]:
    machines = sum(report.machine_clicks.values())
    detail = ", ".join(f"{kind} {n}" for kind, n in report.machine_clicks.items() if n)
    rows = [("sent", str(report.sent), "")]
    if report.events:
        rows.append(("delivered", str(report.delivered), ""))
    return [
        *rows,
        ("bounced", str(report.bounced), percent(report.bounce_rate)),
        ("complained", str(report.complained), percent(report.complaint_rate)),
        ("unsubscribed", str(report.unsubscribed), percent(report.unsubscribe_rate)),
        ("clicks by readers", str(report.clicks), ""),
        ("clicks by machines", str(machines), detail),
    ]


def _timeline(report: CampaignReport) -> list[Figure | None]:
    if not report.hours:
        return [None]
    start = _hour(min(report.hours)) if report.started_at is None else report.started_at
    first = start.replace(minute=0, second=0, microsecond=0)
    span = min(MAX_HOURS, int((_hour(max(report.hours)) - first).total_seconds() // 3600) + 1)
    x = list(range(max(span, 1)))

    def series(name: str) -> list[float]:
        out = [0.0] * len(x)
        for hour, counts in report.hours.items():
            index = int((_hour(hour) - first).total_seconds() // 3600)
            if 0 <= index < len(x):
                out[index] += counts.get(name, 0)
        return out

    groups = [
        ("delivery", "Deliveries and bounces per hour since the send", ("delivered", "bounces")),
        (
            "actions",
            "Clicks, unsubscribes and complaints per hour since the send",
            ("clicks", "machine_clicks", "unsubscribes", "complaints"),
        ),
    ]
    figures: list[Figure | None] = []
    for key, title, names in groups:
        data = {name.replace("_", " "): series(name) for name in names}
        if not any(any(v) for v in data.values()):
            continue
        figures.append(
            Figure(
                key,
                title,
                _sentence("events", [str(h) for h in x], data),
                charts.lines(key, x, data, xlabel="hours since the send", ylabel="per hour"),
                ["hour", *data],
                [
                    [str(h), *(f"{v[h]:.0f}" for v in data.values())]
                    for h in x
                    if any(v[h] for v in data.values())
                ],
            )
        )
    return figures


def _links(report: CampaignReport) -> Figure | None:
    top = report.links[:10]
    if not top:
        return None
    labels = [_short(link.url) for link in top]
    data = {
        "readers": [float(link.clicks) for link in top],
        "machines": [float(link.machine_clicks) for link in top],
    }
    return Figure(
        "links",
        "Top links",
        f"The most clicked link was {labels[0]} with {top[0].clicks} clicks by readers "
        f"and {top[0].machine_clicks} by machines.",
        charts.bars("links", labels, data, xlabel="clicks", horizontal=True),
        ["link", "clicks by readers", "by machines", "readers"],
        [
            [
                link.url,
                str(link.clicks),
                str(link.machine_clicks),
                "" if link.readers is None else str(link.readers),
            ]
            for link in top
        ],
    )


def _compared(report: CampaignReport) -> list[Figure | None]:
    if len(report.compared) < 1:
        return [None]
    labels = [c.label for c in report.compared]

    def rates(name: str) -> list[float]:
        return [getattr(c, name) or 0.0 for c in report.compared]

    complaints = {"complaint rate": rates("complaint_rate")}
    others = {"bounce rate": rates("bounce_rate"), "unsubscribe rate": rates("unsubscribe_rate")}
    return [
        Figure(
            "complaints",
            "Complaint rate per issue, with Gmail and Yahoo's limits",
            f"This issue's complaint rate is {percent(report.complaint_rate)}; the limits are 0.1 % and 0.3 %.",
            charts.lines(
                "complaints",
                labels,
                complaints,
                xlabel="campaign",
                ylabel="complaints / delivered",
                limits={"0.1 %": COMPLAINT_WARNING, "0.3 %": COMPLAINT_ERROR},
                percent=True,
            ),
            ["campaign", "complaint rate"],
            [[c.label, percent(c.complaint_rate)] for c in report.compared],
        ),
        Figure(
            "rates",
            "Bounce and unsubscribe rates per issue",
            f"This issue: bounces {percent(report.bounce_rate)} (warning from 2 %), "
            f"unsubscribes {percent(report.unsubscribe_rate)}.",
            charts.lines(
                "rates",
                labels,
                others,
                xlabel="campaign",
                ylabel="rate",
                limits={"2 % bounces": BOUNCE_WARNING},
                percent=True,
            ),
            ["campaign", "sent", "bounce rate", "unsubscribe rate"],
            [
                [c.label, str(c.sent), percent(c.bounce_rate), percent(c.unsubscribe_rate)]
                for c in report.compared
            ],
        ),
    ]


def _sentence(
    what: str, x: Sequence[str], data: Mapping[str, Sequence[float]], last: bool = False
) -> str:
    parts = []
    for name, values in data.items():
        if last:
            parts.append(f"{name} {values[-1]:.0f} now")
            continue
        peak = max(range(len(values)), key=lambda i: values[i])
        parts.append(f"{name} {sum(values):.0f} in all, most ({values[peak]:.0f}) at {x[peak]}")
    return f"{what.capitalize()}: " + "; ".join(parts) + "."


def _hour(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text[:13] + ":00:00+00:00")


def _short(url: str) -> str:
    parts = urlsplit(url)
    shown = unquote(parts.netloc + parts.path + (f"?{parts.query}" if parts.query else ""))
    return shown if len(shown) <= 48 else shown[:47] + "…"
