"""The forward-only migrations: each version's DDL frozen as it was released.

Each runs once, in its own transaction, and bumps ``schema_version``; opening an older
database applies the missing ones. None of them reads today's tables in db/schema.py, so a
column added there reaches fresh and old databases through the same new migration.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    text,
)
from sqlalchemy.engine import Connection

from newsletter.db.schema import UTCDateTime

__all__ = ["MIGRATIONS", "WITHOUT_FOREIGN_KEYS"]


def _v1_tables(conn: Connection) -> None:
    """Frozen: the list as the first release made it (subscriber ids without AUTOINCREMENT)."""
    frozen = MetaData()
    Table(
        "subscribers",
        frozen,
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
    )
    Table(
        "subscriber_tags",
        frozen,
        Column(
            "subscriber_id",
            Integer,
            ForeignKey("subscribers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("tag", String(100), primary_key=True),
    )
    Table(
        "status_history",
        frozen,
        Column("id", Integer, primary_key=True),
        Column("subscriber_id", Integer, nullable=False),
        Column("changed_at", UTCDateTime, nullable=False),
        Column("from_status", String(16)),
        Column("to_status", String(16), nullable=False),
        Column("actor", Text, nullable=False),
        Column("reason", Text),
    )
    Table(
        "suppressions",
        frozen,
        Column("email_hash", String(64), primary_key=True),
        Column("reason", Text, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
    )
    frozen.create_all(conn)


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
    """Frozen: provider events (deduplicated by id) and double opt-in confirmations."""
    frozen = MetaData()
    Table(
        "provider_events",
        frozen,
        Column("event_id", String(200), primary_key=True),
        Column("provider", String(32), nullable=False),
        Column("kind", String(32), nullable=False),
        Column("subscriber_id", Integer),
        Column("campaign_id", String(200)),
        Column("occurred_at", UTCDateTime, nullable=False),
        Column("received_at", UTCDateTime, nullable=False),
    )
    Table(
        "confirmations",
        frozen,
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
    frozen.create_all(conn)
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


def _v7_subscriber_ids_never_reused_on_sqlite(conn: Connection) -> None:
    """The first release made subscriber ids without AUTOINCREMENT, so SQLite could give an
    erased reader's id (still in the history) to someone new. Rebuild that table with it,
    by SQLite's documented procedure (foreign keys off: see ``WITHOUT_FOREIGN_KEYS``).
    """
    if conn.dialect.name != "sqlite":
        return
    created = conn.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'subscribers'")
    ).scalar_one()
    if "AUTOINCREMENT" in created.upper():
        return
    for statement in (
        _V7_SUBSCRIBERS,
        "INSERT INTO subscribers_v7 SELECT * FROM subscribers",
        "DROP TABLE subscribers",
        "ALTER TABLE subscribers_v7 RENAME TO subscribers",
        "CREATE INDEX ix_subscribers_status ON subscribers (status, id)",
        "CREATE INDEX ix_subscribers_lang ON subscribers (lang)",
        "DELETE FROM sqlite_sequence WHERE name = 'subscribers'",
        _V7_SEQUENCE,
    ):
        conn.execute(text(statement))


_V7_SEQUENCE = """INSERT INTO sqlite_sequence (name, seq) VALUES ('subscribers', max(
    coalesce((SELECT max(id) FROM subscribers), 0),
    coalesce((SELECT max(subscriber_id) FROM status_history), 0)
))"""
"""Count on from the highest id ever given, erased readers' (in the history) included."""

_V7_SUBSCRIBERS = """CREATE TABLE subscribers_v7 (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    name TEXT,
    lang VARCHAR(16),
    status VARCHAR(16) NOT NULL,
    source TEXT,
    created_at VARCHAR(32) NOT NULL,
    confirmed_at VARCHAR(32),
    unsubscribed_at VARCHAR(32),
    status_changed_at VARCHAR(32) NOT NULL,
    consent_at VARCHAR(32),
    consent_method TEXT,
    consent_ip VARCHAR(64),
    consent_user_agent TEXT,
    bounce_count INTEGER DEFAULT '0' NOT NULL,
    last_bounce_reason TEXT,
    attributes JSON NOT NULL,
    UNIQUE (email_key)
)"""


def _v8_reporting(conn: Connection) -> None:
    """What the report needs: clicks, provider events counted per hour (the events themselves
    are pruned after a week), and the campaign a status change came from."""
    frozen = MetaData()
    Table(
        "link_clicks",
        frozen,
        Column("id", Integer, primary_key=True),
        Column("campaign_id", String(200), nullable=False),
        Column("position", Integer, nullable=False),
        Column("subscriber_id", Integer),
        Column("clicked_at", UTCDateTime, nullable=False),
        Column("machine", String(16)),
        sqlite_autoincrement=True,
    )
    Table(
        "event_hours",
        frozen,
        Column("campaign_id", String(200), primary_key=True),
        Column("kind", String(32), primary_key=True),
        Column("hour", UTCDateTime, primary_key=True),
        Column("count", Integer, nullable=False),
    )
    frozen.create_all(conn)
    for statement in (
        "CREATE INDEX ix_link_clicks_campaign ON link_clicks (campaign_id, clicked_at)",
        "ALTER TABLE status_history ADD COLUMN campaign_id VARCHAR(200)",
        "CREATE INDEX ix_status_history_campaign ON status_history (campaign_id, to_status)",
    ):
        conn.execute(text(statement))


def _v9_editions(conn: Connection) -> None:
    """Which edition of the issue each reader was sent (zh-Hant, zh-Hans, en ...), and readers'
    Chinese language tags as the script they name, as imports store them from now on."""
    conn.execute(text("ALTER TABLE campaign_recipients ADD COLUMN edition VARCHAR(16)"))
    for script, tags in (
        (
            "zh-Hans",
            ("zh-hans", "zh-cn", "zh-sg", "zh-my", "zh-hans-cn", "zh-hans-sg", "zh-hans-my"),
        ),
        (
            "zh-Hant",
            ("zh-hant", "zh-tw", "zh-hk", "zh-mo", "zh-hant-tw", "zh-hant-hk", "zh-hant-mo"),
        ),
    ):
        conn.execute(
            text(
                "UPDATE subscribers SET lang = :script "
                "WHERE lower(replace(lang, '_', '-')) IN :tags AND lang <> :script"
            ).bindparams(bindparam("tags", expanding=True)),
            {"script": script, "tags": list(tags)},
        )


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _v1_tables,
    _v2_indexes_and_append_only_history,
    _v3_campaign_journal,
    _v4_events_and_confirmations,
    _v5_append_only_history_on_postgresql,
    _v6_issues_and_ledger,
    _v7_subscriber_ids_never_reused_on_sqlite,
    _v8_reporting,
    _v9_editions,
)
"""Position + 1 is the schema version each migration produces. Only ever append."""

WITHOUT_FOREIGN_KEYS = frozenset({7})
"""Versions that rebuild a table on SQLite: foreign keys are off while they run (else dropping
the old table would cascade to its children) and checked before they commit."""
