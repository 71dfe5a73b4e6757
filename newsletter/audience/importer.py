"""Import a subscriber file into the store: one transaction, streamed, never resurrecting anyone.

Rows are read a batch at a time, merged with duplicates in the batch and with the store, and
written in bulk. Someone unsubscribed, bounced, complained, blocked or erased is never moved
back to subscribed by a file: that row counts as "suppressed". Bad rows go to a reject CSV
beside the input, with their line and reason; the good rows are imported. A crash or Ctrl-C
leaves the store exactly as it was, because nothing commits until the last row is in.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, RowMapping

from newsletter.atomic import open_atomic
from newsletter.audience.csvsource import Progress, open_sheets
from newsletter.audience.export import escape_cell
from newsletter.audience.formats import Candidate, RejectedRow, detect
from newsletter.audience.models import SUPPRESSED, Status
from newsletter.audience.queries import (
    apply_status,
    ids_by_keys,
    now,
    record_history,
    rows_by_keys,
    set_tags,
    spellings,
    suppressed_keys,
    update_subscriber,
)
from newsletter.audience.store import Consent, Store
from newsletter.db.bulk import bulk_insert
from newsletter.db.schema import history, subscribers, suppressions, tags

__all__ = ["ImportReport", "import_file"]

BATCH = 5000
"""Rows read, merged and written together; memory per batch stays in the low megabytes."""


@dataclass
class ImportReport:
    sheets: list[tuple[str, str]] = field(default_factory=list)
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    suppressed: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    rejects_file: Path | None = None
    dry_run: bool = False
    pending: int = 0
    """Of those added: waiting for a double opt-in confirmation, so sent no issue yet."""


def import_file(
    store: Store,
    path: Path,
    *,
    encoding: str | None = None,
    mapping: Mapping[str, str] | None = None,
    consent_text: str | None = None,
    default_lang: str | None = None,
    update_names: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import one CSV or ZIP; returns what changed (or would have, with dry_run).

    A reader already on the list keeps their name and language unless ``update_names``; the
    file only fills in what is missing.
    """
    moment = now()
    consent = Consent(f"import of {path.name}: {consent_text}", at=moment) if consent_text else None
    report = ImportReport(dry_run=dry_run)
    rejects = _RejectWriter(path)
    try:
        with (
            open_sheets(path, encoding=encoding, progress=progress) as sheets,
            store.write(commit=not dry_run) as conn,
        ):
            run = _Run(
                conn, report, actor=f"import:{path.name}", at=moment, update_names=update_names
            )
            for sheet in sheets:
                fmt = detect(sheet.name, sheet.header, mapping or {})
                report.sheets.append((sheet.name, fmt.name))
                rows: Iterable[tuple[int, list[str]]] = sheet.rows
                if fmt.header_is_data:
                    rows = itertools.chain([(1, sheet.header)], rows)
                for batch in _batched(rows, BATCH):
                    candidates: dict[str, Candidate] = {}
                    for line, cells in batch:
                        report.rows += 1
                        try:
                            candidate = fmt.candidate(
                                line, cells, consent=consent, default_lang=default_lang
                            )
                        except RejectedRow as exc:
                            report.rejected[_category(str(exc))] += 1
                            rejects.add(sheet.name, line, str(exc), cells)
                            continue
                        key = candidate.address.key
                        if key in candidates:
                            report.duplicates += 1
                            candidates[key] = _merge(candidates[key], candidate)
                        else:
                            candidates[key] = candidate
                    run.apply(list(candidates.values()))
        report.rejects_file = rejects.finish()
    finally:
        rejects.discard()
    return report


class _Run:
    """Applies batches inside the import's one transaction."""

    def __init__(
        self,
        conn: Connection,
        report: ImportReport,
        *,
        actor: str,
        at: dt.datetime,
        update_names: bool = False,
    ):
        self.conn, self.report, self.actor, self.at = conn, report, actor, at
        self.update_names = update_names
        self.spelled = spellings(conn)
        self._spellings_of: dict[tuple[str, ...], list[str]] = {}
        highest = max(
            conn.execute(select(func.max(subscribers.c.id))).scalar() or 0,
            conn.execute(select(func.max(history.c.subscriber_id))).scalar()
            or 0,  # erased ones too
        )
        self.first_new_id = self.next_id = highest + 1
        self.any_erased = (
            conn.execute(select(suppressions.c.email_hash).limit(1)).first() is not None
        )

    def apply(self, candidates: list[Candidate]) -> None:
        keys = [c.address.key for c in candidates]
        existing = rows_by_keys(self.conn, keys)
        unknown = [k for k in keys if k not in existing]
        erased = suppressed_keys(self.conn, unknown) if self.any_erased else set()
        fresh = []
        for candidate in candidates:
            row = existing.get(candidate.address.key)
            if row is not None:
                self._merge_into(row, candidate)
            elif candidate.address.key in erased:
                self.report.suppressed += 1
            else:
                fresh.append(candidate)
        self._insert(fresh)

    def _insert(self, candidates: list[Candidate]) -> None:
        if not candidates:
            return
        rows = [_AS_ROW(_new_row(c, self.actor, self.at)) for c in candidates]
        if self.conn.dialect.name == "sqlite":
            # BEGIN IMMEDIATE holds the write lock for the whole import: the next ids are ours.
            ids = list(range(self.next_id, self.next_id + len(rows)))
            self.next_id += len(rows)
            numbered = [(new_id, *row) for new_id, row in zip(ids, rows, strict=True)]
            bulk_insert(self.conn, subscribers, ("id", *_NEW_COLUMNS), numbered)
        else:
            bulk_insert(self.conn, subscribers, _NEW_COLUMNS, rows)
            keys = [c.address.key for c in candidates]
            found = ids_by_keys(self.conn, keys)
            ids = [found[key] for key in keys]
        record_history(
            self.conn,
            [
                (i, None, c.status, self.actor, c.reason or "imported", self.at)
                for i, c in zip(ids, candidates, strict=True)
            ],
        )
        tag_rows = [
            (i, t) for i, c in zip(ids, candidates, strict=True) for t in self._spelled(c.tags)
        ]
        bulk_insert(self.conn, tags, ("subscriber_id", "tag"), tag_rows)
        self.report.added += len(candidates)
        self.report.pending += sum(c.status is Status.PENDING for c in candidates)

    def _merge_into(self, row: RowMapping, candidate: Candidate) -> None:
        """Fill in what the file adds; move status only towards suppression or from pending."""
        current = Status(row["status"])
        duplicate = row["id"] >= self.first_new_id  # added earlier in this same import
        if current in SUPPRESSED and candidate.status not in SUPPRESSED:
            self._count("duplicates" if duplicate else "suppressed")
            return
        changes: dict[str, Any] = {}
        for column in ("name", "lang"):  # fill what is missing; replace only when asked
            value = getattr(candidate, column)
            if value and value != row[column] and (not row[column] or self.update_names):
                changes[column] = value
        merged_attributes = {**(row["attributes"] or {}), **candidate.attributes}
        if merged_attributes != (row["attributes"] or {}):
            changes["attributes"] = merged_attributes
        new_status = _next_status(current, candidate.status)
        if new_status is Status.SUBSCRIBED and candidate.consent:
            changes.update(_consent_columns(candidate.consent, self.at))
        if changes:
            update_subscriber(self.conn, row["id"], changes)
        had_tags = self._tags_changed(row["id"], candidate.tags)
        if new_status is not None:
            apply_status(
                self.conn,
                row,
                new_status,
                actor=self.actor,
                reason=candidate.reason or "imported",
                at=self.at,
            )
        if duplicate:
            self._count("duplicates")
        else:
            self._count("updated" if changes or had_tags or new_status is not None else "unchanged")

    def _count(self, outcome: str) -> None:
        setattr(self.report, outcome, getattr(self.report, outcome) + 1)

    def _tags_changed(self, subscriber_id: int, names: tuple[str, ...]) -> bool:
        if not names:
            return False
        before = {
            r[0].lower()
            for r in self.conn.execute(
                select(tags.c.tag).where(tags.c.subscriber_id == subscriber_id)
            )
        }
        if {n.strip().lower() for n in names} <= before:
            return False
        set_tags(self.conn, subscriber_id, names, spelled=self.spelled)
        return True

    def _spelled(self, names: tuple[str, ...]) -> list[str]:
        """A new reader's tags, once each, in the list's spelling of each.

        Worked out once per combination of tags: a list repeats a few over thousands of rows,
        and a tag's spelling, once the list has one, never changes."""
        if (known := self._spellings_of.get(names)) is not None:
            return known
        keys = dict.fromkeys(n.strip().lower() for n in names if n.strip())
        firsts = {n.strip().lower(): n.strip() for n in reversed(names) if n.strip()}
        spelled = self._spellings_of[names] = [
            self.spelled.setdefault(key, firsts[key]) for key in keys
        ]
        return spelled


def _batched(
    rows: Iterable[tuple[int, list[str]]], size: int
) -> Iterable[list[tuple[int, list[str]]]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _next_status(current: Status, wanted: Status) -> Status | None:
    if wanted in SUPPRESSED and current not in SUPPRESSED:
        return wanted
    if wanted is Status.SUBSCRIBED and current is Status.PENDING:
        return wanted
    return None


def _merge(earlier: Candidate, later: Candidate) -> Candidate:
    """Two rows for one address in a file: the first row's name, language and fields stand (a
    later row only fills what it lacks), tags add up, suppression sticks, and the earliest
    consent is the evidence kept."""
    keep_status = (
        earlier if earlier.status in SUPPRESSED and later.status not in SUPPRESSED else later
    )
    if later.status is Status.PENDING and earlier.status is Status.SUBSCRIBED:
        keep_status = earlier
    return Candidate(
        line=later.line,
        address=earlier.address,
        status=keep_status.status,
        name=earlier.name or later.name,
        lang=earlier.lang or later.lang,
        tags=tuple(dict.fromkeys(earlier.tags + later.tags)),
        consent=_earliest(earlier.consent, later.consent) if keep_status.consent else None,
        attributes={**later.attributes, **earlier.attributes},
        exact={**later.exact, **earlier.exact},
        reason=keep_status.reason,
    )


def _earliest(first: Consent | None, second: Consent | None) -> Consent | None:
    """The consent given first: when a reader agreed is evidence, and later rows do not move it."""
    if first is None or second is None:
        return first or second
    if first.at is not None and second.at is not None and second.at < first.at:
        return second
    return first


_NEW_COLUMNS = (
    "email", "email_key", "name", "lang", "status", "source", "created_at", "status_changed_at",
    "confirmed_at", "unsubscribed_at", "consent_at", "consent_method", "consent_ip",
    "consent_user_agent", "bounce_count", "last_bounce_reason", "attributes",
)  # fmt: skip
"""Every column _new_row fills, in the order rows are written: a column added to one belongs in
the other (tests/audience/test_export.py brings every column back through an export)."""
_AS_ROW = itemgetter(*_NEW_COLUMNS)


def _new_row(candidate: Candidate, actor: str, at: dt.datetime) -> dict[str, Any]:
    exact = candidate.exact
    status = candidate.status
    row: dict[str, Any] = {
        "email": candidate.address.email,
        "email_key": candidate.address.key,
        "name": candidate.name,
        "lang": candidate.lang,
        "status": status.value,  # plain text: see bulk_insert
        "source": exact.get("source", actor),
        "created_at": exact.get("created_at") or at,
        "status_changed_at": exact.get("status_changed_at") or at,
        "confirmed_at": exact.get("confirmed_at"),
        "unsubscribed_at": exact.get("unsubscribed_at"),
        "consent_at": exact.get("consent_at"),
        "consent_method": exact.get("consent_method"),
        "consent_ip": exact.get("consent_ip"),
        "consent_user_agent": exact.get("consent_user_agent"),
        "bounce_count": exact.get("bounce_count", 0),
        "last_bounce_reason": exact.get("last_bounce_reason"),
        "attributes": candidate.attributes,
    }
    if "created_at" not in exact:  # files other than our own export: derive what they imply
        if status is Status.UNSUBSCRIBED and row["unsubscribed_at"] is None:
            row["unsubscribed_at"] = at
        if candidate.consent:
            row.update(_consent_columns(candidate.consent, at))
    return row


def _consent_columns(consent: Consent, at: dt.datetime) -> dict[str, Any]:
    return {
        "consent_at": consent.at or at,
        "consent_method": consent.method,
        "consent_ip": consent.ip,
        "consent_user_agent": consent.user_agent,
        "confirmed_at": consent.at or at,
    }


def _category(reason: str) -> str:
    return reason.split(":")[0].split(" (")[0]


class _RejectWriter:
    """Streams rejected rows to an unnamed temp file; <input>.rejects.csv appears only if needed.

    Cells are neutralised as an export's are (operators open this file in a spreadsheet), and
    the temp file has no name, so even a SIGKILLed import leaves nothing stray beside the input.
    """

    def __init__(self, source: Path):
        self.target = source.with_name(f"{source.stem}.rejects.csv")
        self._handle: IO[str] | None = None

    def add(self, sheet: str, line: int, reason: str, cells: list[str]) -> None:
        if self._handle is None:
            self._handle = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115 - discard() closes it
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["file", "line", "reason", "row"])
        self._writer.writerow(
            [escape_cell(sheet), line, escape_cell(reason), *map(escape_cell, cells)]
        )

    def finish(self) -> Path | None:
        if self._handle is None:
            return None
        self._handle.seek(0)
        with open_atomic(self.target, encoding="utf-8-sig", private=True) as out:
            shutil.copyfileobj(self._handle, out)
        return self.target

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
