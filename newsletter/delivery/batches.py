"""What every batch of a send reads and writes in the journal: the hot path, built once.

A claim selects the next pending rows, sorts them in one pass (who is taken, in which edition,
who left), marks them sending and names the readers; a record writes the provider's answers,
one UPDATE when a whole edition shares one. The statements are built at import with bound
parameters, so each batch reuses their compiled SQL (newsletter/delivery/journal.py runs them
inside its transactions).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.engine import Connection

from newsletter.audience.models import Status
from newsletter.db.bulk import chunked
from newsletter.db.schema import UTCDateTime, subscribers
from newsletter.db.schema import campaign_recipients as rows
from newsletter.delivery.states import RowState, outcome
from newsletter.providers.base import Result, RetryLater
from newsletter.recipients import greeting_name
from newsletter.render.mime import Recipient

__all__ = [
    "ANSWERED",
    "NEXT_PENDING",
    "PEEK_PENDING",
    "Claimed",
    "EditionOf",
    "ReadAhead",
    "by_owner",
    "grouped",
    "mark_sending",
    "set_editions",
    "set_state",
    "sort_claimed",
]

EditionOf = Callable[[str | None], str | None]
"""A reader's language -> the edition they get (None: the journal does not record editions)."""

_PENDING = (
    select(
        rows.c.subscriber_id,
        subscribers.c.email,
        subscribers.c.name,
        subscribers.c.status,
        subscribers.c.lang,
        subscribers.c.attributes["first_name"].as_string().label("first_name"),
    )
    .select_from(rows.outerjoin(subscribers, subscribers.c.id == rows.c.subscriber_id))
    .where(
        rows.c.campaign_id == bindparam("c_campaign"),
        rows.c.state == RowState.PENDING,
        rows.c.subscriber_id > bindparam("c_after"),
    )
    .order_by(rows.c.subscriber_id)
    .limit(bindparam("c_size"))
)
NEXT_PENDING = _PENDING.with_for_update(skip_locked=True, of=rows)
"""A claim's next pending rows, in subscriber order after the claim's cursor. PostgreSQL: rows
another sender has claimed are locked and skipped; SQLite ignores this and serialises writers
with BEGIN IMMEDIATE instead."""
PEEK_PENDING = _PENDING
"""The same rows read without taking them: what the next claim will take if nothing changes."""

_SENDING = (
    update(rows)
    .where(rows.c.campaign_id == bindparam("c_campaign"), rows.c.state == RowState.PENDING)
    .values(
        state=RowState.SENDING,
        batch=bindparam("c_batch"),
        reason=None,
        updated_at=bindparam("c_at", type_=UTCDateTime()),
        attempts=rows.c.attempts + 1,
        edition=bindparam("c_edition"),
    )
)
_SENDING_RANGE = _SENDING.where(
    rows.c.subscriber_id.between(bindparam("c_first"), bindparam("c_last"))
)
_SENDING_LISTED = _SENDING.where(rows.c.subscriber_id.in_(bindparam("c_ids", expanding=True)))

ANSWERED = (
    update(rows)
    .where(
        rows.c.campaign_id == bindparam("c_campaign"),
        rows.c.batch == bindparam("c_batch"),
        rows.c.state == RowState.SENDING,
        rows.c.edition == bindparam("c_edition"),
    )
    .values(
        state=bindparam("c_state"),
        reason=bindparam("c_reason"),
        provider_id=bindparam("c_provider_id"),
        updated_at=bindparam("c_at", type_=UTCDateTime()),
    )
)
"""One answer for every row of a batch's edition."""


def mark_sending(conn: Connection, ids: list[int], values: dict[str, Any]) -> tuple[Any, ...]:
    """The claim's UPDATE of the rows it selected. SQLite holds the write lock from the SELECT
    on, so they are all the pending rows of their range (one cheap BETWEEN); on PostgreSQL
    another row of the range may have become pending since (a retry, a cancelled sibling's
    reader): name them."""
    if conn.dialect.name != "sqlite":
        return _SENDING_LISTED, values | {"c_ids": ids}
    first, last = (ids[0], ids[-1]) if ids else (1, 0)
    return _SENDING_RANGE, values | {"c_first": first, "c_last": last}


def grouped(
    outcomes: Sequence[tuple[int, Result]], attempts: dict[int, int]
) -> tuple[dict[tuple[RowState, str | None, str | None], list[int]], list[RowState]]:
    """The rows each answer leaves in one state, and each row's state in order.

    A batch SendGrid accepted is a thousand times the same Sent: its outcome is worked out once.
    """
    groups: dict[tuple[RowState, str | None, str | None], list[int]] = {}
    states: list[RowState] = []
    last: Result | None = None
    ids: list[int] = []
    for subscriber_id, result in outcomes:
        if result is not last or isinstance(result, RetryLater):
            last = result
            answer = outcome(result, attempts.get(subscriber_id, 0))
            ids = groups.setdefault(answer, [])
        ids.append(subscriber_id)
        states.append(answer[0])
    return groups, states


def by_owner(owners: dict[int, str]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = {}
    for subscriber_id, owner in owners.items():
        grouped.setdefault(owner, []).append(subscriber_id)
    return grouped


def set_state(
    conn: Connection,
    campaign_id: str,
    subscriber_ids: list[int],
    *,
    state: RowState,
    at: dt.datetime,
    reason: str | None = None,
    provider_id: str | None = None,
) -> None:
    if not subscriber_ids:
        return
    values: dict[str, Any] = {"state": state, "reason": reason, "updated_at": at}
    if provider_id is not None:
        values["provider_id"] = provider_id
    for chunk in chunked(subscriber_ids):
        conn.execute(
            update(rows)
            .where(and_(rows.c.campaign_id == campaign_id, rows.c.subscriber_id.in_(chunk)))
            .values(**values)
        )


def set_editions(
    conn: Connection, campaign_id: str, editions: dict[str, list[int]], original: str | None
) -> None:
    """Rows of readers in another edition than the original (which the claim wrote already)."""
    for edition, ids in editions.items():
        if edition == original:
            continue
        for chunk in chunked(ids):
            conn.execute(
                update(rows)
                .where(rows.c.campaign_id == campaign_id, rows.c.subscriber_id.in_(chunk))
                .values(edition=edition)
            )


@dataclass
class Claimed:
    """A claim's pending rows sorted out: who is taken (in which edition) and who left."""

    taking: list[int] = field(default_factory=list)
    recipients: list[tuple[int, Recipient]] = field(default_factory=list)
    editions: dict[str, list[int]] = field(default_factory=dict)
    left: dict[str, list[int]] = field(default_factory=dict)


class ReadAhead(NamedTuple):
    """What a peek found: the rows as read and their sorting, for the claim to use again."""

    rows: Sequence[Any]
    claimed: Claimed


def sort_claimed(pending: Sequence[Any], edition_of: EditionOf) -> Claimed:
    """One pass over the rows, as tuples: this runs for every reader of every campaign."""
    out = Claimed()
    edition_by_lang: dict[str | None, str | None] = {}
    for subscriber_id, email, name, status, lang, first_name in pending:
        if status != Status.SUBSCRIBED:
            out.left.setdefault(f"{status or 'erased'} before their batch", []).append(
                subscriber_id
            )
            continue
        if lang in edition_by_lang:
            edition = edition_by_lang[lang]
        else:
            edition = edition_by_lang[lang] = edition_of(lang)
        out.taking.append(subscriber_id)
        if edition is not None:
            out.editions.setdefault(edition, []).append(subscriber_id)
        first = greeting_name(name, first_name)
        out.recipients.append(
            (subscriber_id, Recipient(str(subscriber_id), email, name, first, edition))
        )
    return out
