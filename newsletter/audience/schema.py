"""Tables of the subscriber store, and the forward-only migrations that build them.

Each migration runs once, in its own transaction, and bumps ``schema_version``; opening an
older database file applies the missing ones, so a file keeps working after an upgrade.
Written with SQLAlchemy Core so PostgreSQL is only a different URL.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

from sqlalchemy import (
    JSON,
    Column,
    Dialect,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Connection

__all__ = [
    "MIGRATIONS",
    "UTCDateTime",
    "campaign_recipients",
    "campaigns",
    "confirmations",
    "history",
    "metadata",
    "provider_events",
    "subscribers",
    "suppressions",
    "tags",
]


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC in Python, ISO-8601 text in the database (sortable, portable)."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> str | None:
        return None if value is None else _to_text(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else dt.datetime.fromisoformat(value)


@functools.lru_cache(maxsize=4096)
def _to_text(value: dt.datetime) -> str:
    """Cached: an import stamps a hundred thousand rows with the same moment."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: give a timezone")
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


metadata = MetaData()

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", Text, nullable=False),
    Column("email_key", Text, nullable=False, unique=True),
    Column("name", Text),
    Column("lang", String(16)),
    Column("status", String(16), nullable=False),
    Column("source", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime),
    Column("unsubscribed_at", UTCDateTime),
    Column("status_changed_at", UTCDateTime, nullable=False),
    Column("consent_at", UTCDateTime),
    Column("consent_method", Text),
    Column("consent_ip", String(64)),
    Column("consent_user_agent", Text),
    Column("bounce_count", Integer, nullable=False, server_default="0"),
    Column("last_bounce_reason", Text),
    Column("attributes", JSON, nullable=False),
    sqlite_autoincrement=True,  # an erased subscriber's id (still in the history) is never reused
)

tags = Table(
    "subscriber_tags",
    metadata,
    Column(
        "subscriber_id", Integer, ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("tag", String(100), primary_key=True),
)

history = Table(
    "status_history",
    metadata,
    Column("id", Integer, primary_key=True),
    # No foreign key: history outlives an erased subscriber row (ids only, no personal data).
    Column("subscriber_id", Integer, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("actor", Text, nullable=False),
    Column("reason", Text),
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("email_hash", String(64), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)


campaigns = Table(
    "campaigns",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("slug", String(200), nullable=False),
    Column("article", Text, nullable=False),  # the file, for `campaigns retry`
    Column("subject", Text, nullable=False),
    Column("article_sha", String(64), nullable=False),
    Column("filters", JSON, nullable=False),
    Column("provider", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("note", Text),
    Column("send_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

campaign_recipients = Table(
    "campaign_recipients",
    metadata,
    Column("campaign_id", String(200), ForeignKey("campaigns.id"), primary_key=True),
    Column("subscriber_id", Integer, primary_key=True),
    Column("state", String(16), nullable=False),
    Column("reason", Text),
    Column("provider_id", Text),
    Column("batch", Integer),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("delivery", String(16)),  # from provider events: delivered, bounced, ...
    Column("updated_at", UTCDateTime, nullable=False),
)


provider_events = Table(
    "provider_events",
    metadata,
    # Providers deliver events at least once: the id is the deduplication key.
    Column("event_id", String(200), primary_key=True),
    Column("provider", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("subscriber_id", Integer),
    Column("campaign_id", String(200)),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)

confirmations = Table(
    "confirmations",
    metadata,
    # One row per double opt-in email: single use, and the consent evidence of the form.
    Column("nonce", String(64), primary_key=True),
    Column("subscriber_id", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    Column("lang", String(16)),
    Column("name", Text),
    Column("consent_text", Text, nullable=False),
    Column("form", Text, nullable=False),
    Column("ip", String(64)),
    Column("user_agent", Text),
)


def _v1_tables(conn: Connection) -> None:
    metadata.create_all(conn, tables=[subscribers, tags, history, suppressions])


def _v2_indexes_and_append_only_history(conn: Connection) -> None:
    # Plain DDL: Index objects would attach to the tables and leak into v1's create_all.
    for statement in (
        "CREATE INDEX ix_subscribers_status ON subscribers (status, id)",
        "CREATE INDEX ix_subscribers_lang ON subscribers (lang)",
        "CREATE INDEX ix_subscriber_tags_tag ON subscriber_tags (tag, subscriber_id)",
        "CREATE INDEX ix_status_history_subscriber ON status_history (subscriber_id, id)",
    ):
        conn.execute(text(statement))
    if conn.dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            conn.execute(
                text(
                    f"CREATE TRIGGER status_history_no_{event.lower()} BEFORE {event} ON status_history "
                    "BEGIN SELECT RAISE(ABORT, 'status_history is append-only'); END"
                )
            )


def _v3_campaign_journal(conn: Connection) -> None:
    metadata.create_all(conn, tables=[campaigns, campaign_recipients])
    conn.execute(
        text(
            "CREATE INDEX ix_campaign_recipients_state ON campaign_recipients (campaign_id, state, subscriber_id)"
        )
    )


def _v4_events_and_confirmations(conn: Connection) -> None:
    metadata.create_all(conn, tables=[provider_events, confirmations])
    for statement in (
        "CREATE INDEX ix_provider_events_received ON provider_events (received_at)",
        "CREATE INDEX ix_confirmations_subscriber ON confirmations (subscriber_id, created_at)",
    ):
        conn.execute(text(statement))


def _v5_append_only_history_on_postgresql(conn: Connection) -> None:
    """v2 made the history append-only with SQLite triggers only; PostgreSQL needs its own."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(
        text(
            "CREATE FUNCTION status_history_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'status_history is append-only'; END $$"
        )
    )
    conn.execute(
        text(
            "CREATE TRIGGER status_history_append_only BEFORE UPDATE OR DELETE ON status_history "
            "FOR EACH ROW EXECUTE FUNCTION status_history_append_only()"
        )
    )


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _v1_tables,
    _v2_indexes_and_append_only_history,
    _v3_campaign_journal,
    _v4_events_and_confirmations,
    _v5_append_only_history_on_postgresql,
)
"""Position + 1 is the schema version each migration produces. Only ever append."""
