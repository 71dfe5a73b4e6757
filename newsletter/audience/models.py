"""The subscriber vocabulary shared by the store, import, export and (later) delivery."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from newsletter.recipients import first_name_for

__all__ = ["SUPPRESSED", "HistoryEntry", "Status", "Subscriber"]


class Status(StrEnum):
    PENDING = "pending"
    """Awaiting double opt-in confirmation."""
    SUBSCRIBED = "subscribed"
    """The only status that receives an issue."""
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    BLOCKED = "blocked"


SUPPRESSED = frozenset({Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED, Status.BLOCKED})
"""Statuses no import may turn back into subscribed."""


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    name: str | None
    lang: str | None
    status: Status
    tags: tuple[str, ...] = ()
    source: str | None = None
    created_at: dt.datetime | None = None
    confirmed_at: dt.datetime | None = None
    unsubscribed_at: dt.datetime | None = None
    status_changed_at: dt.datetime | None = None
    consent_at: dt.datetime | None = None
    consent_method: str | None = None
    consent_ip: str | None = None
    consent_user_agent: str | None = None
    bounce_count: int = 0
    last_bounce_reason: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def first_name(self) -> str | None:
        """For greetings: the first word of the name (an attribute may say otherwise)."""
        return first_name_for(self.name, self.attributes)


@dataclass(frozen=True)
class HistoryEntry:
    changed_at: dt.datetime
    from_status: Status | None
    to_status: Status
    actor: str
    reason: str | None
