"""Complaint, bounce and unsubscribe rates per campaign, against the limits mailbox providers publish.

Gmail's and Yahoo's bulk-sender rules (February 2024) ask senders to keep spam complaints
below 0.1 % and never reach 0.3 %, measured against mail delivered; from 0.3 % Gmail starts
rejecting or junking the domain's mail. A bounce rate above 2 % is the usual sign of a list
that needs cleaning (SendGrid and Mailchimp warn at that level).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from newsletter.audience.models import Status
from newsletter.audience.store import Store
from newsletter.db.schema import campaign_recipients, history
from newsletter.delivery.journal import Journal
from newsletter.delivery.states import Campaign, CampaignStatus, RowState
from newsletter.qa.findings import Finding

__all__ = [
    "BOUNCE_WARNING",
    "COMPLAINT_ERROR",
    "COMPLAINT_WARNING",
    "Level",
    "Rates",
    "last_campaign_findings",
    "rates_from",
    "rates_of",
    "row_counts",
    "unsubscribe_counts",
]

COMPLAINT_WARNING = 0.001
COMPLAINT_ERROR = 0.003
BOUNCE_WARNING = 0.02


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Rates:
    """One campaign's counts and what they come to; a rate is None with nothing to divide by."""

    sent: int
    delivered: int
    bounced: int
    complained: int
    unsubscribed: int
    events: bool
    """Whether the provider reports deliveries: without them rates are over messages sent."""

    @property
    def reached(self) -> int:
        """What complaints and unsubscribes are measured against: delivered, else sent."""
        return self.delivered if self.events else self.sent

    @property
    def complaint_rate(self) -> float | None:
        return self.complained / self.reached if self.reached else None

    @property
    def bounce_rate(self) -> float | None:
        return self.bounced / self.sent if self.sent else None

    @property
    def unsubscribe_rate(self) -> float | None:
        return self.unsubscribed / self.reached if self.reached else None

    @property
    def complaint_level(self) -> Level:
        rate = self.complaint_rate or 0.0
        if rate >= COMPLAINT_ERROR:
            return Level.ERROR
        return Level.WARNING if rate >= COMPLAINT_WARNING else Level.OK

    @property
    def bounce_level(self) -> Level:
        return Level.WARNING if (self.bounce_rate or 0.0) >= BOUNCE_WARNING else Level.OK

    def findings(self, where: str = "") -> list[Finding]:
        """Each rate at or over its limit, as a QA finding that says what to do."""
        found: list[Finding] = []
        if self.complaint_level is not Level.OK:
            error = self.complaint_level is Level.ERROR
            found.append(
                Finding(
                    "error" if error else "warning",
                    "complaint-rate",
                    f"complaint rate {percent(self.complaint_rate)} is at or over "
                    f"{'0.3 %' if error else '0.1 %'}, Gmail and Yahoo's limit for bulk senders",
                    where,
                    "send only to readers who asked recently, make unsubscribing easy to find, "
                    "and check the list's sources",
                )
            )
        if self.bounce_level is not Level.OK:
            found.append(
                Finding(
                    "warning",
                    "bounce-rate",
                    f"bounce rate {percent(self.bounce_rate)} is at or over 2 %",
                    where,
                    "the list has stale or mistyped addresses; re-confirm old imports",
                )
            )
        return found


def percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.2f} %"


def rates_of(store: Store, campaign: Campaign) -> Rates:
    """The campaign's rates (for `campaigns show` and the check before the next send)."""
    with store.read() as conn:
        rows = row_counts(conn, [campaign.id]).get(campaign.id, Counter())
        left = unsubscribe_counts(conn, [campaign.id]).get(campaign.id, 0)
    return rates_from(campaign, rows, left)


def last_campaign_findings(store: Store) -> list[Finding]:
    """The latest finished campaign's rates over their limits, as findings for the send gate:
    a complaint rate from 0.3 % stops the next send until fixed or forced."""
    finished = Journal(store).campaigns(statuses=[CampaignStatus.FINISHED])
    if not finished:
        return []
    last = finished[-1]
    return rates_of(store, last).findings(where=f"the last campaign, {last.label} ({last.id})")


def rates_from(campaign: Campaign, rows: Counter[tuple[str, str]], unsubscribed: int) -> Rates:
    delivery = {key: n for (kind, key), n in rows.items() if kind == "delivery"}
    return Rates(
        sent=rows[("state", RowState.SENT.value)],
        delivered=delivery.get("delivered", 0) + delivery.get("complained", 0),
        bounced=delivery.get("bounced", 0) + delivery.get("dropped", 0),
        complained=delivery.get("complained", 0),
        unsubscribed=unsubscribed,
        events=campaign.provider == "sendgrid",
    )


def row_counts(conn: Connection, ids: list[str]) -> dict[str, Counter[tuple[str, str]]]:
    """Per campaign: rows by ("state", state) and by ("delivery", what events reported)."""
    r = campaign_recipients.c
    found: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    query = (
        select(r.campaign_id, r.state, r.delivery, func.count())
        .where(r.campaign_id.in_(ids))
        .group_by(r.campaign_id, r.state, r.delivery)
    )
    for campaign_id, state, delivery, count in conn.execute(query):
        found[campaign_id][("state", state)] += count
        if delivery is not None:
            found[campaign_id][("delivery", delivery)] += count
    return found


def unsubscribe_counts(conn: Connection, ids: list[str]) -> dict[str, int]:
    """Per campaign: readers who left through its mail (its unsubscribe link)."""
    query = (
        select(history.c.campaign_id, func.count(history.c.subscriber_id.distinct()))
        .where(history.c.campaign_id.in_(ids), history.c.to_status == Status.UNSUBSCRIBED)
        .group_by(history.c.campaign_id)
    )
    return {campaign_id: count for campaign_id, count in conn.execute(query)}
