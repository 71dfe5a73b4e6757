"""Tables of the subscriber store, and the forward-only migrations that build them.

Each migration runs once, in its own transaction, and bumps ``schema_version``; opening an
older database file applies the missing ones, so a file keeps working after an upgrade.
Written with SQLAlchemy Core so PostgreSQL is only a different URL.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import secrets
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
    "deliveries",
    "history",
    "issues",
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
    Column("article", Text, nullable=False),  # the file as given when the campaign started
    Column("subject", Text, nullable=False),
    Column("article_sha", String(64), nullable=False),
    Column("filters", JSON, nullable=False),
    Column("provider", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("note", Text),
    Column("send_at", UTCDateTime),  # when a scheduled campaign is due
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("issue_id", String(32), ForeignKey("issues.id")),  # v6; NULL never after it
    Column("label", Text),  # v6: slug plus filters, for people
    Column("forced", Text),  # v6: why the QA gate was overridden
    Column("forced_codes", Text),  # v6: the QA errors that reason covers, comma-separated
    Column("started_at", UTCDateTime),  # v6: when its audience was frozen (NULL: not yet)
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
    Column("evidence", Text),  # v6: the provider event that settled an uncertain row
)

issues = Table(
    "issues",
    metadata,
    # One article as sent: its identity outlives edits to the file's slug, title or body.
    Column("id", String(32), primary_key=True),
    Column("slug", String(200), nullable=False, unique=True),
    Column("article", Text, nullable=False),
    Column("source", Text),  # the article as sent; NULL only for issues from before v6
    Column("source_sha", String(64), nullable=False),
    Column("rendered", JSON),  # the RenderedIssue as sent; NULL only for issues from before v6
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    # The ledger: one row per (issue, reader), whichever campaign took them. Ids only.
    Column("issue_id", String(32), ForeignKey("issues.id"), primary_key=True),
    Column("subscriber_id", Integer, primary_key=True),
    Column("campaign_id", String(200), nullable=False),
    Column("claimed_at", UTCDateTime, nullable=False),
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
    """Frozen: the journal's tables as v3 made them (later columns come from later migrations)."""
    frozen = MetaData()
    Table(
        "campaigns",
        frozen,
        Column("id", String(200), primary_key=True),
        Column("slug", String(200), nullable=False),
        Column("article", Text, nullable=False),
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
    Table(
        "campaign_recipients",
        frozen,
        Column("campaign_id", String(200), ForeignKey("campaigns.id"), primary_key=True),
        Column("subscriber_id", Integer, primary_key=True),
        Column("state", String(16), nullable=False),
        Column("reason", Text),
        Column("provider_id", Text),
        Column("batch", Integer),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("delivery", String(16)),
        Column("updated_at", UTCDateTime, nullable=False),
    )
    frozen.create_all(conn)
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


def _v6_issues_and_ledger(conn: Connection) -> None:
    """Issues with a stable id and a snapshot, and the ledger of who has had each issue.

    Existing campaigns become campaigns of one issue per slug (no snapshot: the next send takes
    it from the file), and whoever they sent, may have sent or failed to send becomes that
    issue's ledger row, so no later campaign of the issue mails them again.
    """
    frozen = MetaData()
    Table(
        "issues",
        frozen,
        Column("id", String(32), primary_key=True),
        Column("slug", String(200), nullable=False, unique=True),
        Column("article", Text, nullable=False),
        Column("source", Text),
        Column("source_sha", String(64), nullable=False),
        Column("rendered", JSON),
        Column("created_at", UTCDateTime, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
    )
    Table(
        "deliveries",
        frozen,
        Column("issue_id", String(32), ForeignKey("issues.id"), primary_key=True),
        Column("subscriber_id", Integer, primary_key=True),
        Column("campaign_id", String(200), nullable=False),
        Column("claimed_at", UTCDateTime, nullable=False),
    )
    frozen.create_all(conn)
    for statement in (
        "ALTER TABLE campaigns ADD COLUMN issue_id VARCHAR(32) REFERENCES issues (id)",
        "ALTER TABLE campaigns ADD COLUMN label TEXT",
        "ALTER TABLE campaigns ADD COLUMN forced TEXT",
        "ALTER TABLE campaigns ADD COLUMN forced_codes TEXT",
        "ALTER TABLE campaigns ADD COLUMN started_at VARCHAR(32)",
        "UPDATE campaigns SET started_at = created_at",
        "ALTER TABLE campaign_recipients ADD COLUMN evidence TEXT",
        "CREATE INDEX ix_campaigns_issue ON campaigns (issue_id, status)",
        "CREATE INDEX ix_campaigns_due ON campaigns (status, send_at)",
    ):
        conn.execute(text(statement))
    _v6_adopt_campaigns(conn, frozen.tables["issues"], frozen.tables["deliveries"])


def _v6_issue_id(moment: dt.datetime) -> str:
    """Frozen copy of the issue ids of this release: ``i``, 7 base32 digits of time, 5 random."""
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    value = (int(moment.timestamp()) << 25) | secrets.randbits(25)
    return "i" + "".join(alphabet[(value >> (5 * i)) & 31] for i in reversed(range(12)))


def _v6_adopt_campaigns(conn: Connection, issues_v6: Table, deliveries_v6: Table) -> None:
    found = conn.execute(
        text(
            "SELECT id, slug, article, article_sha, filters, created_at FROM campaigns "
            "ORDER BY created_at, id"
        )
    ).all()
    issue_of: dict[str, str] = {}
    for campaign_id, slug, article, sha, filters, created in found:
        moment = dt.datetime.fromisoformat(created)
        if slug not in issue_of:
            issue_of[slug] = _v6_issue_id(moment)
            conn.execute(
                issues_v6.insert().values(
                    id=issue_of[slug], slug=slug, article=article, source_sha=sha,
                    created_at=moment, updated_at=moment,
                )
            )  # fmt: skip
        else:
            conn.execute(
                issues_v6.update()
                .where(issues_v6.c.id == issue_of[slug])
                .values(article=article, source_sha=sha)
            )
        chosen = json.loads(filters) if isinstance(filters, str) else filters or {}
        parts = ", ".join(f"{k} {v}" for k, v in chosen.items() if v)
        conn.execute(
            text("UPDATE campaigns SET issue_id = :issue, label = :label WHERE id = :id"),
            {
                "issue": issue_of[slug],
                "label": f"{slug} ({parts})" if parts else slug,
                "id": campaign_id,
            },
        )
    rank = {"sent": 0, "uncertain": 1, "sending": 2, "failed": 3}
    taken: dict[tuple[str, int], tuple[int, str, dt.datetime]] = {}
    for campaign_id, subscriber_id, state, updated, issue_id in conn.execute(
        text(
            "SELECT r.campaign_id, r.subscriber_id, r.state, r.updated_at, c.issue_id "
            "FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id "
            "WHERE r.state IN ('sent', 'uncertain', 'sending', 'failed')"
        )
    ):
        key = (issue_id, subscriber_id)
        if key not in taken or rank[state] < taken[key][0]:
            taken[key] = (rank[state], campaign_id, dt.datetime.fromisoformat(updated))
    rows = [
        {"issue_id": i, "subscriber_id": s, "campaign_id": c, "claimed_at": at}
        for (i, s), (_, c, at) in taken.items()
    ]
    for start in range(0, len(rows), 5000):
        conn.execute(deliveries_v6.insert(), rows[start : start + 5000])


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _v1_tables,
    _v2_indexes_and_append_only_history,
    _v3_campaign_journal,
    _v4_events_and_confirmations,
    _v5_append_only_history_on_postgresql,
    _v6_issues_and_ledger,
)
"""Position + 1 is the schema version each migration produces. Only ever append."""
