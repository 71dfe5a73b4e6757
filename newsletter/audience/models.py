"""The subscriber vocabulary shared by the store, import, export and (later) delivery."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from newsletter.languages import canonical
from newsletter.recipients import first_name_for

__all__ = ["SUPPRESSED", "Filters", "HistoryEntry", "Move", "Status", "Subscriber"]


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


class Move(NamedTuple):
    """One status change to write, with its history row; plain 6-tuples are Moves without a campaign."""

    subscriber_id: int
    from_status: Status | None
    to_status: Status
    actor: str
    reason: str | None
    at: dt.datetime
    campaign_id: str | None = None
    """The campaign whose mail the change came from (an unsubscribe link, a bounce event)."""


@dataclass(frozen=True)
class Filters:
    """Who a list, an export or a send is for. Tags compare without case; a reader with any of
    ``tags`` matches, or with all of them when ``all_tags``."""

    status: Status | None = None
    tags: tuple[str, ...] = ()
    lang: str | None = None
    search: str | None = None
    all_tags: bool = False

    def __post_init__(self) -> None:
        # one order and one spelling per tag, so equal audiences compare equal
        unique = {t.strip().lower(): t.strip() for t in reversed(self.tags) if t.strip()}
        object.__setattr__(self, "tags", tuple(unique[k] for k in sorted(unique)))
        if self.lang:  # as the list stores languages: --lang zh-CN means zh-Hans readers
            object.__setattr__(self, "lang", canonical(self.lang.strip()))

    def subscribed(self) -> Filters:
        """The same filters over subscribed readers only: a send's audience."""
        return dataclasses.replace(self, status=Status.SUBSCRIBED)

    def as_json(self) -> dict[str, Any]:
        """How a campaign stores its filters."""
        return {"tags": list(self.tags), "all_tags": self.all_tags, "lang": self.lang}

    @classmethod
    def of_json(cls, data: Mapping[str, Any]) -> Filters:
        """A campaign's stored filters; campaigns from before v6 stored one "tag"."""
        tags = data.get("tags") or ([data["tag"]] if data.get("tag") else [])
        return cls(tags=tuple(tags), lang=data.get("lang"), all_tags=bool(data.get("all_tags")))
