"""One campaign's report: sent, delivered, bounced, complained, left, clicked, hour by hour.

Everything comes from what is stored anyway: the journal's rows (state and the delivery the
provider's events reported), the hourly event counts, the history's unsubscribes that name
this campaign, and the clicks `serve` counted. Clicks are split into readers' and machines':
`serve` marks HEAD requests, scanner user agents and bursts as they come; clicks in the first
the first ``early_seconds`` after the message was sent (the machine_click_seconds setting)
are marked here, where the send times are known.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from pydantic import BaseModel
from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.engine import Connection

from newsletter.audience.models import Status
from newsletter.audience.store import Store
from newsletter.db.schema import campaign_recipients, event_hours, history, link_clicks
from newsletter.delivery.clicks import Machine, link_targets
from newsletter.delivery.journal import Journal
from newsletter.delivery.reputation import rates_from, row_counts, unsubscribe_counts
from newsletter.delivery.states import Campaign, CampaignStatus, RowState

__all__ = ["CampaignReport", "LinkCount", "campaign_report"]
COMPARED = 12
"""Earlier campaigns shown beside this one."""
SERIES = ("delivered", "bounces", "complaints", "unsubscribes", "clicks", "machine_clicks")
_BOUNCES = ("bounce", "dropped")
_HOUR = 13  # len("2026-11-30T13"): ISO text up to the hour


class LinkCount(BaseModel):
    position: int
    url: str
    clicks: int
    machine_clicks: int
    readers: int | None
    """Different readers who clicked (per-reader tracking only)."""


class Compared(BaseModel):
    campaign: str
    label: str
    started_at: dt.datetime | None
    sent: int
    unsubscribe_rate: float | None
    bounce_rate: float | None
    complaint_rate: float | None


class CampaignReport(BaseModel):
    campaign: str
    label: str
    subject: str
    provider: str
    status: str
    started_at: dt.datetime | None
    recipients: int
    sent: int
    failed: int
    uncertain: int
    delivered: int
    bounced: int
    complained: int
    unsubscribed: int
    events: bool
    """Whether the provider reports events (SendGrid does; SMTP and the dry run do not)."""
    clicks: int
    machine_clicks: dict[str, int]
    clickers: int | None
    links: list[LinkCount]
    hours: dict[str, dict[str, int]]
    """ISO hour (UTC) -> series -> count, for the hours that had any."""
    complaint_rate: float | None
    bounce_rate: float | None
    unsubscribe_rate: float | None
    warnings: list[str]
    errors: list[str]
    compared: list[Compared]


def campaign_report(store: Store, campaign_id: str, *, early_seconds: int = 60) -> CampaignReport:
    journal = Journal(store)
    campaign = journal.campaign(campaign_id)
    with store.read() as conn:
        rows = row_counts(conn, [campaign_id]).get(campaign_id, Counter())
        left = _unsubscribes(conn, campaign_id)
        hours = _event_hours(conn, campaign_id)
        clicks, links = _clicks(conn, campaign_id, hours, early_seconds)
    for moment in left:
        hours[moment[:_HOUR]]["unsubscribes"] += 1
    rates = rates_from(campaign, rows, len(left))
    findings = rates.findings()
    compared = _compared(store, journal, campaign)
    targets = link_targets(store, campaign_id) or []
    return CampaignReport(
        campaign=campaign.id,
        label=campaign.label,
        subject=campaign.subject,
        provider=campaign.provider,
        status=campaign.status.value,
        started_at=campaign.started_at,
        recipients=sum(n for (kind, _), n in rows.items() if kind == "state"),
        sent=rates.sent,
        failed=rows[("state", RowState.FAILED.value)],
        uncertain=rows[("state", RowState.UNCERTAIN.value)],
        delivered=rates.delivered,
        bounced=rates.bounced,
        complained=rates.complained,
        unsubscribed=rates.unsubscribed,
        events=rates.events,
        clicks=clicks["human"],
        machine_clicks={m.value: clicks[m.value] for m in Machine},
        clickers=clicks.get("clickers"),
        links=[
            LinkCount(position=p, url=targets[p] if p < len(targets) else "?", **counts)
            for p, counts in sorted(links.items(), key=lambda item: -item[1]["clicks"])
        ],
        hours={hour: dict(series) for hour, series in sorted(hours.items())},
        complaint_rate=rates.complaint_rate,
        bounce_rate=rates.bounce_rate,
        unsubscribe_rate=rates.unsubscribe_rate,
        warnings=[f"{f.message}: {f.fix}" for f in findings if f.severity == "warning"],
        errors=[f"{f.message}: {f.fix}" for f in findings if f.severity == "error"],
        compared=compared,
    )


def _unsubscribes(conn: Connection, campaign_id: str) -> list[str]:
    """When each reader who left through this campaign's mail left (ISO text), first time only."""
    query = (
        select(history.c.subscriber_id, func.min(type_coerce(history.c.changed_at, String)))
        .where(history.c.campaign_id == campaign_id, history.c.to_status == Status.UNSUBSCRIBED)
        .group_by(history.c.subscriber_id)
    )
    return [moment for _, moment in conn.execute(query)]


def _event_hours(conn: Connection, campaign_id: str) -> defaultdict[str, Counter[str]]:
    hours: defaultdict[str, Counter[str]] = defaultdict(Counter)
    query = select(
        event_hours.c.kind, type_coerce(event_hours.c.hour, String), event_hours.c.count
    ).where(event_hours.c.campaign_id == campaign_id)
    for kind, hour, count in conn.execute(query):
        series = "bounces" if kind in _BOUNCES else {"complaint": "complaints"}.get(kind, kind)
        if series in SERIES:
            hours[hour[:_HOUR]][series] += count
    return hours


def _clicks(
    conn: Connection, campaign_id: str, hours: defaultdict[str, Counter[str]], early_seconds: int
) -> tuple[Counter[str], dict[int, dict[str, Any]]]:
    """Totals by kind, and per link; each click also counted in its hour."""
    early = _EarlyClicks(conn, campaign_id, dt.timedelta(seconds=early_seconds))
    c = link_clicks.c
    query = select(c.position, c.subscriber_id, type_coerce(c.clicked_at, String), c.machine).where(
        c.campaign_id == campaign_id
    )
    totals: Counter[str] = Counter()
    links: dict[int, dict[str, Any]] = {}
    readers: dict[int, set[int]] = defaultdict(set)
    everyone: set[int] = set()
    for position, subscriber, clicked_at, machine in conn.execute(query):
        if machine is None and early.is_early(subscriber, clicked_at):
            machine = Machine.EARLY.value
        link = links.setdefault(position, {"clicks": 0, "machine_clicks": 0, "readers": None})
        if machine is None:
            totals["human"] += 1
            link["clicks"] += 1
            hours[clicked_at[:_HOUR]]["clicks"] += 1
            if subscriber is not None:
                readers[position].add(subscriber)
                everyone.add(subscriber)
        else:
            totals[machine] += 1
            link["machine_clicks"] += 1
            hours[clicked_at[:_HOUR]]["machine_clicks"] += 1
    for position, who in readers.items():
        links[position]["readers"] = len(who)
    if everyone:
        totals["clickers"] = len(everyone)
    return totals, links


class _EarlyClicks:
    """When each message was sent: per reader, and per batch for clicks without a reader."""

    def __init__(self, conn: Connection, campaign_id: str, window: dt.timedelta) -> None:
        self._window = window
        r = campaign_recipients.c
        query = select(r.subscriber_id, type_coerce(r.updated_at, String)).where(
            r.campaign_id == campaign_id, r.state == RowState.SENT
        )
        self._sent: dict[int, str] = dict(conn.execute(query).tuples().all())
        self._until: dict[str, str] = {}
        self._batches = sorted(set(self._sent.values()))

    def is_early(self, subscriber: int | None, clicked_at: str) -> bool:
        if subscriber is not None and subscriber in self._sent:
            return clicked_at < self._plus_window(self._sent[subscriber])
        since = _shift(clicked_at, -self._window)  # any message of the campaign sent just before
        i = bisect.bisect_left(self._batches, since)
        return i < len(self._batches) and self._batches[i] <= clicked_at

    def _plus_window(self, sent: str) -> str:
        if sent not in self._until:
            self._until[sent] = _shift(sent, self._window)
        return self._until[sent]


def _shift(moment: str, by: dt.timedelta) -> str:
    """ISO text moved by ``by``, in the stored format (so text order is time order)."""
    return (dt.datetime.fromisoformat(moment) + by).isoformat(timespec="microseconds")


def _before(one: Campaign, other: Campaign) -> bool:
    if one.started_at is None or other.started_at is None:
        return False
    return one.started_at <= other.started_at


def _compared(store: Store, journal: Journal, campaign: Campaign) -> list[Compared]:
    """This campaign and up to COMPARED before it, oldest first, with their rates."""
    started = sorted(
        (
            c
            for c in journal.campaigns()
            if c.started_at is not None and c.status is not CampaignStatus.SCHEDULED
        ),
        key=lambda c: (c.started_at, c.id),
    )
    upto = [c for c in started if c.id == campaign.id or _before(c, campaign)]
    chosen = upto[-(COMPARED + 1) :] or [campaign]
    ids = [c.id for c in chosen]
    with store.read() as conn:
        rows = row_counts(conn, ids)
        left = unsubscribe_counts(conn, ids)
    out = []
    for c in chosen:
        rates = rates_from(c, rows.get(c.id, Counter()), left.get(c.id, 0))
        out.append(
            Compared(
                campaign=c.id,
                label=c.label,
                started_at=c.started_at,
                sent=rates.sent,
                unsubscribe_rate=rates.unsubscribe_rate,
                bounce_rate=rates.bounce_rate,
                complaint_rate=rates.complaint_rate,
            )
        )
    return out
