"""Bulk writes go through the driver but store exactly what SQLAlchemy itself would."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, create_engine, select, update
from sqlalchemy.types import TypeEngine

from newsletter.audience.store import Store
from newsletter.db.bulk import bulk_execute, bulk_insert, chunked
from newsletter.db.schema import subscribers

MOMENT = dt.datetime(2025, 9, 4, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_the_private_sqlalchemy_api_bulk_insert_relies_on_is_still_there() -> None:
    """If this fails, SQLAlchemy renamed it: adapt db/bulk.py before anything else."""
    assert callable(getattr(TypeEngine, "_cached_bind_processor", None))


COLUMNS = ("attributes", "status_changed_at", "email_key", "status", "email", "created_at")
"""Not in the table's order: SQLite's positional parameters must follow the statement's."""


def _row(n: int) -> tuple[object, ...]:
    address = f"r{n}@example.com"
    return ({"plan": "pro"} if n % 2 else {}, MOMENT, address, "subscribed", address, MOMENT)


def test_bulk_insert_converts_each_column_as_its_type_says(database_url: str) -> None:
    Store.open(database_url).close()
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            bulk_insert(conn, subscribers, COLUMNS, [_row(n) for n in range(1, 4)])
            bulk_execute(
                conn,
                update(subscribers)
                .where(subscribers.c.email_key == bindparam("key"))
                .values(status=bindparam("new_status")),
                [{"key": "r1@example.com", "new_status": "unsubscribed"}],
            )
        with engine.connect() as conn:
            stored = (
                conn.execute(select(subscribers).order_by(subscribers.c.email_key)).mappings().all()
            )
    finally:
        engine.dispose()
    assert [r["created_at"] for r in stored] == [MOMENT] * 3  # UTC text back to the same instant
    assert [r["attributes"] for r in stored] == [{"plan": "pro"}, {}, {"plan": "pro"}]
    assert [r["status"] for r in stored] == ["unsubscribed", "subscribed", "subscribed"]


def test_chunked_covers_every_value_once_in_order() -> None:
    values = list(range(1201))
    chunks = list(chunked(values))
    assert [len(c) for c in chunks] == [500, 500, 201]
    assert [v for c in chunks for v in c] == values
    assert list(chunked([])) == []
