"""The delivery ledger: one row per (issue, reader), so an issue reaches each reader at most once.

Campaigns come and go (the whole list, a tag, a language, retries, a schedule, two processes
or hosts at once); the ledger's primary key does not. A campaign enters a batch's readers in
the same transaction that claims its rows; a reader already entered by another campaign is
that campaign's to send, retry or give up, and is skipped by everyone else. A reader whose
message did not go out after all (the provider deferred it or refused the batch unsent, or
the campaign was cancelled) leaves the ledger again, free for any campaign of the issue. The database's
unique key settles races: SQLite serialises the writers, and PostgreSQL makes a second
inserter wait for the first to commit, then skip the row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, bindparam, delete, select
from sqlalchemy.engine import Connection

from newsletter.db.bulk import chunked
from newsletter.db.engine import insert_ignoring
from newsletter.db.schema import UTCDateTime, deliveries
from newsletter.db.schema import campaign_recipients as rows
from newsletter.delivery.states import RowState

__all__ = ["forget", "readers", "release", "take"]


def readers(issue_id: str) -> Any:
    """Everyone the issue was given to (or may have been): a subquery for NOT IN."""
    return select(deliveries.c.subscriber_id).where(deliveries.c.issue_id == issue_id)


def take(
    conn: Connection,
    issue_id: str,
    campaign_id: str,
    batch: int,
    moment: dt.datetime,
    expected: int,
) -> dict[int, str]:
    """Enter the batch's ``expected`` sending rows in the ledger; returns those another
    campaign has, with its id."""
    values = {"l_issue": issue_id, "l_campaign": campaign_id, "l_batch": batch, "l_at": moment}
    entered = conn.execute(_entering(conn), values).rowcount
    if entered == expected:
        return {}  # all of them are ours: no need to look for other owners
    in_batch = (
        rows.c.campaign_id == campaign_id,
        rows.c.batch == batch,
        rows.c.state == RowState.SENDING,
    )
    foreign = (
        select(deliveries.c.subscriber_id, deliveries.c.campaign_id)
        .join(rows, rows.c.subscriber_id == deliveries.c.subscriber_id)
        .where(
            *in_batch, deliveries.c.issue_id == issue_id, deliveries.c.campaign_id != campaign_id
        )
    )
    return {subscriber_id: owner for subscriber_id, owner in conn.execute(foreign).all()}


_ENTERING: dict[str, Any] = {}
"""The batch's INSERT per dialect, built once: it runs for every batch of every send."""


def _entering(conn: Connection) -> Any:
    dialect = conn.dialect.name
    if dialect not in _ENTERING:
        _ENTERING[dialect] = insert_ignoring(conn, deliveries).from_select(
            ["issue_id", "subscriber_id", "campaign_id", "claimed_at"],
            select(
                bindparam("l_issue", type_=String()),
                rows.c.subscriber_id,
                bindparam("l_campaign", type_=String()),
                bindparam("l_at", type_=UTCDateTime()),
            )
            .where(
                rows.c.campaign_id == bindparam("l_campaign"),
                rows.c.batch == bindparam("l_batch"),
                rows.c.state == RowState.SENDING,
            )
            .order_by(rows.c.subscriber_id),  # one lock order for every inserter: no deadlock
        )
    return _ENTERING[dialect]


def release(conn: Connection, issue_id: str, campaign_id: str, states: Sequence[str]) -> None:
    """Give back the readers of the campaign's rows in these states: it will not send them."""
    conn.execute(
        delete(deliveries).where(
            deliveries.c.issue_id == issue_id,
            deliveries.c.campaign_id == campaign_id,
            deliveries.c.subscriber_id.in_(
                select(rows.c.subscriber_id).where(
                    rows.c.campaign_id == campaign_id, rows.c.state.in_(list(states))
                )
            ),
        )
    )


def forget(
    conn: Connection, issue_id: str, campaign_id: str, subscriber_ids: Sequence[int]
) -> None:
    """Give back readers whose message did not go out after all (deferred, refused unsent)."""
    for chunk in chunked(subscriber_ids):
        conn.execute(
            delete(deliveries).where(
                deliveries.c.issue_id == issue_id,
                deliveries.c.campaign_id == campaign_id,
                deliveries.c.subscriber_id.in_(chunk),
            )
        )
