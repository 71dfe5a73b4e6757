"""Export the list as CSV: every field of every subscriber, safe to open in a spreadsheet.

A cell that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
return) is prefixed with an apostrophe, and so is a cell that already starts with one, so the
import of our own export can undo it exactly: export then import reproduces the list.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from sqlalchemy import Text, cast, select, type_coerce

from newsletter.audience.models import Filters
from newsletter.audience.queries import filtered
from newsletter.audience.store import Store
from newsletter.db.bulk import chunked
from newsletter.db.schema import subscribers, tags

__all__ = ["COLUMNS", "escape_cell", "unescape_cell", "write_csv"]

COLUMNS = (
    "email", "name", "lang", "tags", "status", "source", "created_at", "confirmed_at",
    "unsubscribed_at", "status_changed_at", "consent_at", "consent_method", "consent_ip",
    "consent_user_agent", "bounce_count", "last_bounce_reason", "attributes",
)  # fmt: skip
_FORMULA_START = frozenset({"=", "+", "-", "@", "\t", "\r", "'"})
_TIMES = ("created_at", "confirmed_at", "unsubscribed_at", "status_changed_at", "consent_at")
_STORED = select(
    subscribers.c.id,
    *(subscribers.c[name] for name in COLUMNS[:3]),
    subscribers.c.status,
    subscribers.c.source,
    *(type_coerce(subscribers.c[name], Text) for name in _TIMES),  # as stored: ISO 8601 text
    *(subscribers.c[name] for name in COLUMNS[11:16]),
    cast(subscribers.c.attributes, Text),  # the JSON text, not the driver's parsed value
)
"""Each exported column as the database holds it: the rows stream out with only what needs
converting converted, not through a Subscriber per row."""
_TAG_CELLS = 10_000
"""Distinct tag combinations remembered: a list where every reader's tags differ stays flat."""


def escape_cell(value: str) -> str:
    return "'" + value if value[:1] in _FORMULA_START else value


def unescape_cell(value: str) -> str:
    return value[1:] if value[:1] == "'" and value[1:2] in _FORMULA_START else value


def write_csv(store: Store, out: TextIO, filters: Filters = Filters(), batch: int = 5000) -> int:
    """Write a header and one row per matching subscriber, in id order; returns the count."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    count = 0
    tag_cells: dict[tuple[str, ...], str] = {}
    for page, tag_names in _pages(store, filters, batch):
        writer.writerows(_cells(row, tag_names.get(row[0]), tag_cells) for row in page)
        count += len(page)
    return count


def _pages(
    store: Store, filters: Filters, batch: int
) -> Iterator[tuple[Sequence[Any], dict[int, list[str]]]]:
    """Pages of rows with their tags, each read in its own short transaction."""
    last = 0
    query = filtered(_STORED, filters).order_by(subscribers.c.id).limit(batch)
    while True:
        with store.read() as conn:
            page = conn.execute(query.where(subscribers.c.id > last)).all()
            if not page:
                return
            tag_names: dict[int, list[str]] = {}
            for ids in chunked([row[0] for row in page]):
                found = select(tags.c.subscriber_id, tags.c.tag).where(
                    tags.c.subscriber_id.in_(ids)
                )
                for subscriber_id, tag in conn.execute(found.order_by(tags.c.tag)):
                    tag_names.setdefault(subscriber_id, []).append(tag)
        yield page, tag_names
        last = page[-1][0]


def _cells(
    row: Sequence[Any], tag_names: list[str] | None, tag_cells: dict[tuple[str, ...], str]
) -> tuple[str, ...]:
    """One row in COLUMNS order (tags and attributes as JSON, times as ISO 8601 UTC)."""
    (_, email, name, lang, status, source, created, confirmed, left, changed, consented,
     method, ip, agent, bounces, reason, extra) = row  # fmt: skip
    return (
        escape_cell(email),
        escape_cell(name or ""),
        escape_cell(lang or ""),
        _tags(tag_names, tag_cells),
        status,
        escape_cell(source or ""),
        _time(created),
        _time(confirmed),
        _time(left),
        _time(changed),
        _time(consented),
        escape_cell(method or ""),
        escape_cell(ip or ""),
        escape_cell(agent or ""),
        str(bounces),
        escape_cell(reason or ""),
        _attributes(extra),
    )


def _tags(tag_names: list[str] | None, cells: dict[tuple[str, ...], str]) -> str:
    """A list has few combinations of tags: each is written as JSON once (up to a bound)."""
    if not tag_names:
        return "[]"
    key = tuple(tag_names)
    if key in cells:
        return cells[key]
    cell = json.dumps(tag_names, ensure_ascii=False)
    if len(cells) < _TAG_CELLS:
        cells[key] = cell
    return cell


def _time(stored: str | None) -> str:
    """The store writes ISO 8601 with microseconds (UTC); a time written otherwise is rewritten so."""
    if stored is None:
        return ""
    if len(stored) == 32 and stored.endswith("+00:00"):
        return stored
    return dt.datetime.fromisoformat(stored).isoformat(timespec="microseconds")


def _attributes(stored: str | None) -> str:
    if not stored or stored == "{}":
        return "{}"
    value = json.loads(stored)
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else "{}"
