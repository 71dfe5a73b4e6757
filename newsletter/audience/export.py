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
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def escape_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def unescape_cell(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_START) else value


def write_csv(subscribers: Iterable[Subscriber], out: TextIO) -> int:
    """Write a header and one row per subscriber; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    count = 0
    for subscriber in subscribers:
        writer.writerow([escape_cell(_cell(subscriber, column)) for column in COLUMNS])
        count += 1
    return count


def _cell(subscriber: Subscriber, column: str) -> str:
    value = getattr(subscriber, column)
    if value is None:
        return ""
    if column == "tags":
        return json.dumps(list(value), ensure_ascii=False)
    if column == "attributes":
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="microseconds")
    return str(value)
