"""The vocabulary of delivery: campaign and recipient states, and the records the journal returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from newsletter.audience.models import Filters
from newsletter.providers.base import Failed, Result, Sent, Uncertain
from newsletter.render.mime import Recipient

__all__ = [
    "DELIVERY_RANKS",
    "MAX_ATTEMPTS",
    "Campaign",
    "CampaignStatus",
    "Claim",
    "NewCampaign",
    "Override",
    "RowState",
    "label_for",
    "outcome",
    "segment_of",
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
    forced_codes: str | None
    started_at: dt.datetime | None
    """When the audience was frozen; None for a scheduled campaign that has not started."""

    @property
    def audience(self) -> Filters:
        return Filters.of_json(self.filters).subscribed()

    @property
    def override(self) -> Override | None:
        if not self.forced:
            return None
        return Override(self.forced, frozenset(filter(None, (self.forced_codes or "").split(","))))


@dataclass(frozen=True)
class Override:
    """`--force REASON`: the reason, and the QA errors it was given for; new errors still refuse."""

    reason: str
    codes: frozenset[str]

    @property
    def codes_text(self) -> str:
        return ",".join(sorted(self.codes))


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
    override: Override | None = None


@dataclass(frozen=True)
class Claim:
    """One batch taken for sending, and who was skipped: left meanwhile, or had the issue."""

    batch: int
    recipients: list[tuple[int, Recipient]]
    skipped: int


def segment_of(filters: Filters) -> str:
    """Who a send is for, in words: "tag health or vip, lang en"; empty for everyone."""
    joiner = " and " if filters.all_tags else " or "
    parts = [
        f"{name} {value}"
        for name, value in (("tag", joiner.join(filters.tags)), ("lang", filters.lang))
        if value
    ]
    return ", ".join(parts)


def label_for(slug: str, filters: Filters) -> str:
    """The campaign as people name it: the slug, plus its filters in any script."""
    segment = segment_of(filters)
    return f"{slug} ({segment})" if segment else slug


def outcome(result: Result, attempts: int) -> tuple[RowState, str | None, str | None]:
    """(state, reason, provider id) a provider's answer leaves a row in, after ``attempts`` tries."""
    if isinstance(result, Sent):
        return RowState.SENT, None, result.provider_id
    if isinstance(result, Failed):
        return RowState.FAILED, result.reason, None
    if isinstance(result, Uncertain):
        return RowState.UNCERTAIN, result.reason, None
    if attempts >= MAX_ATTEMPTS:
        return RowState.FAILED, f"gave up after {MAX_ATTEMPTS} tries: {result.reason}", None
    return RowState.PENDING, result.reason, None
