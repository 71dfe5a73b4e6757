"""Tables of the store as the code uses them today; db/migrations.py builds them in the database.

Written with SQLAlchemy Core so PostgreSQL is only a different URL. A change here needs a new
migration: tests/db/test_migrations.py fails until a fresh and an upgraded database match it.
"""

from __future__ import annotations

import datetime as dt
import functools

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
)

__all__ = [
    "UTCDateTime",
    "campaign_recipients",
    "campaigns",
    "confirmations",
    "deliveries",
    "event_hours",
    "history",
    "issues",
    "link_clicks",
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
    Column("campaign_id", String(200)),  # v8: the campaign whose mail the change came from
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
    Column("edition", String(16)),  # v9: the edition sent (NULL before v9: the original)
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

link_clicks = Table(
    "link_clicks",
    metadata,
    # One row per request to a tracked link; the reader only when click_tracking = per-reader.
    Column("id", Integer, primary_key=True),
    Column("campaign_id", String(200), nullable=False),
    Column("position", Integer, nullable=False),
    Column("subscriber_id", Integer),
    Column("clicked_at", UTCDateTime, nullable=False),
    Column("machine", String(16)),  # why a machine, not a reader, made it (NULL: a reader)
    sqlite_autoincrement=True,
)

event_hours = Table(
    "event_hours",
    metadata,
    # Provider events per campaign, kind and hour: outlive the week the events are kept.
    Column("campaign_id", String(200), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("hour", UTCDateTime, primary_key=True),
    Column("count", Integer, nullable=False),
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
