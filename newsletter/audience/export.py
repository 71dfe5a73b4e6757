"""Export the list as CSV: every field of every subscriber, safe to open in a spreadsheet.

A cell that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
return) is prefixed with an apostrophe, and so is a cell that already starts with one, so the
import of our own export can undo it exactly: export then import reproduces the list.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable
from typing import TextIO

from newsletter.audience.models import Subscriber

__all__ = ["COLUMNS", "escape_cell", "unescape_cell", "write_csv"]

COLUMNS = (
    "email", "name", "lang", "tags", "status", "source", "created_at", "confirmed_at",
    "unsubscribed_at", "status_changed_at", "consent_at", "consent_method", "consent_ip",
    "consent_user_agent", "bounce_count", "last_bounce_reason", "attributes",
)  # fmt: skip
_FORMULA_START = frozenset({"=", "+", "-", "@", "\t", "\r", "'"})


def escape_cell(value: str) -> str:
    return "'" + value if value[:1] in _FORMULA_START else value


def unescape_cell(value: str) -> str:
    return value[1:] if value[:1] == "'" and value[1:2] in _FORMULA_START else value


def write_csv(subscribers: Iterable[Subscriber], out: TextIO) -> int:
    """Write a header and one row per subscriber; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    count = 0
    for subscriber in subscribers:
        writer.writerow([escape_cell(cell) for cell in _cells(subscriber)])
        count += 1
    return count


def _cells(s: Subscriber) -> tuple[str, ...]:
    """One row in COLUMNS order (tags and attributes as JSON, times as ISO 8601 UTC)."""
    return (
        s.email,
        s.name or "",
        s.lang or "",
        json.dumps(list(s.tags), ensure_ascii=False) if s.tags else "[]",
        s.status.value,
        s.source or "",
        _time(s.created_at),
        _time(s.confirmed_at),
        _time(s.unsubscribed_at),
        _time(s.status_changed_at),
        _time(s.consent_at),
        s.consent_method or "",
        s.consent_ip or "",
        s.consent_user_agent or "",
        str(s.bounce_count),
        s.last_bounce_reason or "",
        json.dumps(s.attributes, ensure_ascii=False, sort_keys=True) if s.attributes else "{}",
    )


def _time(value: dt.datetime | None) -> str:
    return "" if value is None else value.isoformat(timespec="microseconds")
