"""The subscriber vocabulary shared by the store, import, export and (later) delivery."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "NAME_LIMIT",
    "SUPPRESSED",
    "HistoryEntry",
    "Status",
    "Subscriber",
    "first_name_for",
    "first_name_of",
    "name_problem",
    "subscriber_id_of",
]


NAME_LIMIT = 200
"""Longest name a subscriber may have: longer is junk, breaks provider limits (SendGrid takes
10,000 bytes of substitutions per reader) and cannot fit a mail header line."""


def name_problem(name: str | None) -> str | None:
    """Why a name cannot be stored, or None when it can."""
    if name is not None and len(name) > NAME_LIMIT:
        return f"name is {len(name):,} characters; at most {NAME_LIMIT}"
    return None


def first_name_of(name: str | None) -> str | None:
    """The name a greeting uses: "Ada Lovelace" -> "Ada", "Lovelace, Ada" -> "Ada", "陳大文" stays."""
    if not name or not name.strip():
        return None
    family, comma, given = name.partition(",")
    words = (given if comma and given.strip() else family).split()
    return words[0] if words else None


def first_name_for(name: str | None, attributes: dict[str, Any]) -> str | None:
    """An explicit ``first_name`` attribute wins over the one read from the full name."""
    explicit = attributes.get("first_name")
    if isinstance(explicit, str) and explicit.strip():
        return explicit.strip()
    return first_name_of(name)


def subscriber_id_of(key: object) -> int | None:
    """The subscriber a recipient key names: campaign sends use the id, test sends other keys."""
    if isinstance(key, str) and key.isascii() and key.isdigit() and len(key) < 19:
        return int(key)
    return None


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
