"""The list's reads and writes on an open connection, each inside its caller's transaction.

The store runs them for one command; the importer, self-service, provider events, the journal
and the web app's writer run them inside transactions of their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, RowMapping

from newsletter.addresses import suppression_hash
from newsletter.audience.models import Filters, Move, Status, Subscriber
from newsletter.db.bulk import bulk_insert, chunked
from newsletter.db.schema import (
    UTCDateTime,
    history,
    subscribers,
    suppressions,
    tags,
)

__all__ = [
    "apply_status",
    "apply_statuses",
    "filtered",
    "ids_by_keys",
    "insert_subscriber",
    "is_suppressed",
    "look_alike",
    "now",
    "record_history",
    "rows_by_keys",
    "set_tags",
    "spellings",
    "suppress",
    "suppressed_keys",
    "update_subscriber",
]


Changes = Move | tuple[int, Status | None, Status, str, str | None, dt.datetime]
"""A status change: a Move, or its first six fields (no campaign)."""

_MOVE_COLUMNS = (
    "subscriber_id", "from_status", "to_status", "actor", "reason", "changed_at", "campaign_id",
)  # fmt: skip
"""The history columns a Move's fields fill, in the Move's order."""

_MOVE = (
    update(subscribers)
    .where(subscribers.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        status_changed_at=bindparam("b_at", type_=UTCDateTime),
        confirmed_at=func.coalesce(
            subscribers.c.confirmed_at, bindparam("b_confirmed", type_=UTCDateTime)
        ),
        unsubscribed_at=func.coalesce(
            bindparam("b_unsubscribed", type_=UTCDateTime), subscribers.c.unsubscribed_at
        ),
    )
)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def rows_by_keys(conn: Connection, keys: Sequence[str]) -> dict[str, RowMapping]:
    found: dict[str, RowMapping] = {}
    for chunk in chunked(keys):
        for row in conn.execute(
            select(subscribers).where(subscribers.c.email_key.in_(chunk))
        ).mappings():
            found[row["email_key"]] = row
    return found


def ids_by_keys(conn: Connection, keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in chunked(keys):
        query = select(subscribers.c.email_key, subscribers.c.id).where(
            subscribers.c.email_key.in_(chunk)
        )
        found.update((key, subscriber_id) for key, subscriber_id in conn.execute(query))
    return found


def suppressed_keys(conn: Connection, keys: Sequence[str]) -> set[str]:
    by_hash = {suppression_hash(key): key for key in keys}
    hashes = list(by_hash)
    found: set[str] = set()
    for chunk in chunked(hashes):
        for (email_hash,) in conn.execute(
            select(suppressions.c.email_hash).where(suppressions.c.email_hash.in_(chunk))
        ):
            found.add(by_hash[email_hash])
    return found


def is_suppressed(conn: Connection, key: str) -> bool:
    return bool(suppressed_keys(conn, [key]))


def insert_subscriber(conn: Connection, row: Mapping[str, Any]) -> int:
    inserted = conn.execute(insert(subscribers).values(**row)).inserted_primary_key
    assert inserted is not None  # an INSERT of one row always has its key
    return int(inserted[0])


def update_subscriber(conn: Connection, subscriber_id: int, values: Mapping[str, Any]) -> None:
    conn.execute(update(subscribers).where(subscribers.c.id == subscriber_id).values(**values))


def set_tags(
    conn: Connection,
    subscriber_id: int,
    tag_names: Iterable[str],
    *,
    replace: bool = False,
    spelled: dict[str, str] | None = None,
) -> None:
    """Give a reader these tags, each in the list's spelling; ``spelled`` caches
    :func:`spellings` across many readers."""
    if replace:
        conn.execute(delete(tags).where(tags.c.subscriber_id == subscriber_id))
    existing = {
        r[0].lower()
        for r in conn.execute(select(tags.c.tag).where(tags.c.subscriber_id == subscriber_id))
    }
    wanted = {t.strip().lower(): t.strip() for t in reversed(list(tag_names)) if t and t.strip()}
    new = {key: name for key, name in wanted.items() if key not in existing}
    if not new:
        return
    spelled = spellings(conn) if spelled is None else spelled
    names = sorted(spelled.setdefault(key, name) for key, name in new.items())
    conn.execute(insert(tags), [{"subscriber_id": subscriber_id, "tag": t} for t in names])


def _same_tag(subscriber_id: int, tag_name: str) -> Any:
    return and_(
        tags.c.subscriber_id == subscriber_id, func.lower(tags.c.tag) == tag_name.strip().lower()
    )


def look_alike(tag_names: Iterable[str]) -> list[list[str]]:
    """Groups of tags equal but for case, spaces and punctuation: likely one segment typed twice."""
    groups: dict[str, list[str]] = {}
    for name in sorted(tag_names):
        groups.setdefault("".join(c for c in name.lower() if c.isalnum()), []).append(name)
    return [names for names in groups.values() if len(names) > 1]


def spellings(conn: Connection) -> dict[str, str]:
    """Each tag's spelling in the list, by its lower case: "health" and "Health" are one tag,
    and a new tag takes the spelling already in use (the first in sort order, if several)."""
    found: dict[str, str] = {}
    for (tag,) in conn.execute(select(tags.c.tag).distinct().order_by(tags.c.tag)):
        found.setdefault(tag.lower(), tag)
    return found


def record_history(conn: Connection, entries: Sequence[Changes]) -> None:
    rows = [  # statuses as plain text: see bulk_insert
        (m.subscriber_id, m.from_status and str(m.from_status), str(m.to_status), *m[3:])
        for m in (Move(*entry) for entry in entries)
    ]
    bulk_insert(conn, history, _MOVE_COLUMNS, rows)


def apply_status(
    conn: Connection,
    row: Mapping[Any, Any],
    status: Status,
    *,
    actor: str,
    reason: str | None,
    at: dt.datetime,
) -> None:
    """Move one subscriber to a status, with its timestamps and a history row."""
    apply_statuses(conn, [(row["id"], Status(row["status"]), status, actor, reason, at)])


def apply_statuses(conn: Connection, moves: Sequence[Changes]) -> None:
    """Many moves, in order, in two statements (history rows have the same shape).

    confirmed_at is set on a first subscribe, unsubscribed_at on every unsubscribe; the
    statements are module constants, so SQLAlchemy compiles them once per process.
    """
    if not moves:
        return
    conn.execute(
        _MOVE,
        [
            {
                "b_id": subscriber_id,
                "b_status": Status(status).value,
                "b_at": at,
                "b_confirmed": at if status == Status.SUBSCRIBED else None,
                "b_unsubscribed": at if status == Status.UNSUBSCRIBED else None,
            }
            for subscriber_id, _, status, _, _, at, *_ in moves
        ],
    )
    record_history(conn, moves)


def suppress(conn: Connection, keys: Iterable[str], *, reason: str, at: dt.datetime) -> None:
    for key in keys:
        email_hash = suppression_hash(key)
        if not conn.execute(
            select(suppressions.c.email_hash).where(suppressions.c.email_hash == email_hash)
        ).first():
            conn.execute(
                insert(suppressions).values(email_hash=email_hash, reason=reason, created_at=at)
            )


def _row_by_key(conn: Connection, key: str) -> RowMapping | None:
    return (
        conn.execute(select(subscribers).where(subscribers.c.email_key == key)).mappings().first()
    )


def filtered(query: Select[Any], filters: Filters) -> Select[Any]:
    if filters.status:
        query = query.where(subscribers.c.status == filters.status)
    if filters.lang:
        query = query.where(subscribers.c.lang == filters.lang)
    if filters.tags:
        tagged = [
            subscribers.c.id.in_(
                select(tags.c.subscriber_id).where(func.lower(tags.c.tag) == tag.lower())
            )
            for tag in filters.tags
        ]
        query = query.where(and_(*tagged) if filters.all_tags else or_(*tagged))
    if filters.search:
        term = f"%{filters.search.lower()}%"
        query = query.where(
            or_(subscribers.c.email_key.like(term), func.lower(subscribers.c.name).like(term))
        )
    return query


def _with_tags(conn: Connection, rows: list[RowMapping]) -> list[Subscriber]:
    ids = [r["id"] for r in rows]
    by_id: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for subscriber_id, tag_name in conn.execute(
            select(tags.c.subscriber_id, tags.c.tag)
            .where(tags.c.subscriber_id.in_(ids))
            .order_by(tags.c.tag)
        ):
            by_id[subscriber_id].append(tag_name)
    return [_subscriber(r, by_id[r["id"]]) for r in rows]


def _subscriber(row: RowMapping, tag_names: list[str]) -> Subscriber:
    values = {k: v for k, v in row.items() if k != "email_key"}
    values["status"] = Status(values["status"])
    values["attributes"] = dict(values["attributes"] or {})
    return Subscriber(tags=tuple(tag_names), **values)
