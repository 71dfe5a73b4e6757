"""A trigger that makes the database refuse an update, written for SQLite or PostgreSQL.

Tests use it to fail a transaction half-way and check that nothing of it stays.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection


def refuse_updates(
    conn: Connection, name: str, table: str, *, of: str | None = None, when: str = "TRUE"
) -> None:
    """Every UPDATE of `table` (of one column) whose NEW row matches `when` fails: 'refused'."""
    event = f"UPDATE OF {of}" if of else "UPDATE"
    if conn.dialect.name == "sqlite":
        conn.execute(
            text(
                f"CREATE TRIGGER {name} BEFORE {event} ON {table} WHEN {when} "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        )
        return
    conn.execute(
        text(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused'; END $$"
        )
    )
    conn.execute(
        text(
            f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW WHEN ({when}) "
            f"EXECUTE FUNCTION {name}()"
        )
    )


def allow_updates(conn: Connection, name: str, table: str) -> None:
    """Drop a trigger made by refuse_updates."""
    on = "" if conn.dialect.name == "sqlite" else f" ON {table}"
    conn.execute(text(f"DROP TRIGGER {name}{on}"))
