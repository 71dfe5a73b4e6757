"""The vocabulary of delivery: campaign and recipient states, and the records the journal returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from newsletter.audience.models import Status
from newsletter.audience.store import Filters
from newsletter.mime import Recipient

__all__ = [
    "DELIVERY_RANKS",
    "MAX_ATTEMPTS",
    "Campaign",
    "CampaignStatus",
    "Claim",
    "NewCampaign",
    "RowState",
    "label_for",
]


class CampaignStatus(StrEnum):
    SCHEDULED = "scheduled"
    """Waiting for its time; nobody is frozen or claimed yet."""
    RUNNING = "running"
    PAUSED = "paused"
    """Stopped on purpose or by errors; the same send (or run-due) continues it."""
    FINISHED = "finished"
    CANCELLED = "cancelled"
    """Nothing further is claimed; its pending readers are free for another campaign."""


class RowState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNCERTAIN = "uncertain"
    CANCELLED = "cancelled"


DELIVERY_RANKS = {
    "processed": 1,
    "deferred": 2,
    "delivered": 3,
    "bounced": 4,
    "dropped": 4,
    "complained": 5,
}
"""What the provider's events say became of a sent row (the ``delivery`` column). Events only
ever move a row up this order, so the order they arrive in does not matter."""
MAX_ATTEMPTS = 8
"""A recipient the provider keeps deferring is failed after this many tries."""


@dataclass(frozen=True)
class Campaign:
    id: str
    slug: str
    article: str
    subject: str
    article_sha: str
    filters: dict[str, Any]
    provider: str
    status: CampaignStatus
    note: str | None
    send_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    issue_id: str
    label: str
    forced: str | None

    @property
    def audience(self) -> Filters:
        return Filters(Status.SUBSCRIBED, self.filters.get("tag"), self.filters.get("lang"))


@dataclass(frozen=True)
class NewCampaign:
    """What a campaign is made of when it is recorded."""

    issue_id: str
    slug: str
    article: str
    subject: str
    article_sha: str
    filters: Filters
    provider: str
    send_at: dt.datetime | None = None
    forced: str | None = None


@dataclass(frozen=True)
class Claim:
    """One batch taken for sending, and who was skipped: left meanwhile, or had the issue."""

    batch: int
    recipients: list[tuple[int, Recipient]]
    skipped: int


def label_for(slug: str, filters: Filters) -> str:
    """The campaign as people name it: the slug, plus its filters in any script."""
    parts = [
        f"{name} {value}" for name, value in (("tag", filters.tag), ("lang", filters.lang)) if value
    ]
    return f"{slug} ({', '.join(parts)})" if parts else slug
