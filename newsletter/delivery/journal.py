"""The campaign journal: one row per recipient, so nobody is mailed twice, skipped or mailed after leaving.

States: pending -> sending -> sent | failed | skipped | uncertain. A batch is committed as
``sending`` before the provider is called and as ``sent`` (with the provider's id) after it
answered. A row still ``sending`` when a run starts was in flight when an earlier run died:
it becomes ``uncertain`` and is resent only by ``campaigns retry --uncertain``. The audience is
frozen when the campaign starts; who unsubscribes meanwhile is ``skipped`` when their batch
comes up, because every claim re-reads the subscriber's current status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, insert, literal, select, update
from sqlalchemy.engine import Connection

from newsletter.audience.models import Status, first_name_for
from newsletter.audience.schema import UTCDateTime, campaigns, subscribers
from newsletter.audience.schema import campaign_recipients as rows
from newsletter.audience.store import Filters, Store, filtered, now
from newsletter.errors import NewsletterError
from newsletter.mime import Recipient
from newsletter.providers.base import Failed, Result, Sent, Uncertain

__all__ = ["DELIVERY_RANKS", "MAX_ATTEMPTS", "STATES", "Campaign", "Claim", "Journal"]

STATES = ("pending", "sending", "sent", "failed", "skipped", "uncertain")
DELIVERY_RANKS = {
    "processed": 1,
    "deferred": 2,
    "delivered": 3,
    "bounced": 4,
    "dropped": 4,
    "complained": 5,
}
"""What the provider's events say became of a sent row (the ``delivery`` column). Events only
ever move a row up this order, so the order they arrive in does not matter."""
MAX_ATTEMPTS = 8
"""A recipient the provider keeps deferring is failed after this many tries."""


@dataclass(frozen=True)
class Campaign:
    id: str
    slug: str
    article: str
    subject: str
    article_sha: str
    filters: dict[str, Any]
    provider: str
    status: str
    note: str | None
    send_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class Claim:
    """One batch taken for sending, and who was skipped because they left meanwhile."""

    batch: int
    recipients: list[tuple[int, Recipient]]
    skipped: int


class Journal:
    def __init__(self, store: Store):
        self.store = store
        self._cursor: dict[str, int] = {}
        """Last subscriber id claimed per campaign: each claim starts after it, not from the top."""
        self._batches: dict[str, int] = {}
        """Last batch number per campaign, read once per run."""

    def start(
        self,
        *,
        campaign_id: str,
        slug: str,
        article: str,
        subject: str,
        article_sha: str,
        filters: Filters,
        provider: str,
        send_at: dt.datetime | None = None,
    ) -> tuple[Campaign, bool]:
        """The campaign, created with its frozen audience if new; (campaign, created)."""
        moment = now()
        with self.store.write() as conn:
            existing = _campaign_row(conn, campaign_id)
            if existing is None:
                conn.execute(
                    insert(campaigns).values(
                        id=campaign_id,
                        slug=slug,
                        article=article,
                        subject=subject,
                        article_sha=article_sha,
                        filters=_filters_json(filters),
                        provider=provider,
                        status="running",
                        send_at=send_at,
                        created_at=moment,
                        updated_at=moment,
                    )
                )
                audience = filtered(
                    select(subscribers.c.id), Filters(Status.SUBSCRIBED, filters.tag, filters.lang)
                ).where(subscribers.c.id.not_in(_already_given(slug)))

                frozen = audience.subquery()
                conn.execute(
                    insert(rows).from_select(
                        ["campaign_id", "subscriber_id", "state", "attempts", "updated_at"],
                        select(
                            literal(campaign_id),
                            frozen.c.id,
                            literal("pending"),
                            literal(0),
                            literal(moment, UTCDateTime()),
                        ),
                    )
                )
            else:
                values: dict[str, Any] = {"status": "running", "note": None, "updated_at": moment}
                if send_at is not None:
                    values["send_at"] = send_at
                conn.execute(
                    update(campaigns).where(campaigns.c.id == campaign_id).values(**values)
                )
            # rows left 'sending' by a run that died: nobody knows whether they went out
            conn.execute(
                update(rows)
                .where(rows.c.campaign_id == campaign_id, rows.c.state == "sending")
                .values(
                    state="uncertain",
                    reason="in flight when an earlier run stopped",
                    updated_at=moment,
                )
            )
        return self.campaign(campaign_id), existing is None

    def audience_size(self, slug: str, filters: Filters) -> int:
        """How many a new campaign of this article would freeze: subscribed, not yet given it."""
        query = filtered(
            select(func.count()).select_from(subscribers),
            Filters(Status.SUBSCRIBED, filters.tag, filters.lang),
        ).where(subscribers.c.id.not_in(_already_given(slug)))
        with self.store.read() as conn:
            return int(conn.execute(query).scalar_one())

    def claim(
        self, campaign_id: str, size: int, *, before_second_pass: Callable[[], None] | None = None
    ) -> Claim | None:
        """Take the next pending batch (in subscriber order) and mark it sending; None when done.

        A pass runs from the lowest subscriber id to the highest; rows deferred on the way are
        picked up by the next pass, after ``before_second_pass`` (the runner's wait) has run.
        """
        claim = self._claim_after_cursor(campaign_id, size)
        if claim is None and self._cursor.pop(campaign_id, 0):
            if before_second_pass is not None:
                before_second_pass()
            claim = self._claim_after_cursor(campaign_id, size)
        return claim

    def _claim_after_cursor(self, campaign_id: str, size: int) -> Claim | None:
        moment = now()
        with self.store.write() as conn:
            pending = conn.execute(
                select(
                    rows.c.subscriber_id,
                    subscribers.c.email,
                    subscribers.c.name,
                    subscribers.c.status,
                    subscribers.c.attributes["first_name"].as_string().label("first_name"),
                )
                .select_from(rows.outerjoin(subscribers, subscribers.c.id == rows.c.subscriber_id))
                .where(
                    rows.c.campaign_id == campaign_id,
                    rows.c.state == "pending",
                    rows.c.subscriber_id > self._cursor.get(campaign_id, 0),
                )
                .order_by(rows.c.subscriber_id)
                .limit(size)
                # PostgreSQL: rows another sender has claimed are locked and skipped; SQLite
                # ignores this and serialises writers with BEGIN IMMEDIATE instead.
                .with_for_update(skip_locked=True, of=rows)
            ).all()
            if not pending:
                return None
            self._cursor[campaign_id] = pending[-1].subscriber_id
            if campaign_id not in self._batches:  # once per run: the column has no index
                query = select(func.max(rows.c.batch)).where(rows.c.campaign_id == campaign_id)
                self._batches[campaign_id] = conn.execute(query).scalar() or 0
            self._batches[campaign_id] += 1
            batch = self._batches[campaign_id]
            for r in pending:
                if r.status != Status.SUBSCRIBED:
                    reason = f"{r.status or 'erased'} before their batch"
                    _set(
                        conn,
                        campaign_id,
                        [r.subscriber_id],
                        state="skipped",
                        reason=reason,
                        at=moment,
                    )
            taking = [r for r in pending if r.status == Status.SUBSCRIBED]
            # The rest of the range is exactly this batch: we hold the write lock (one UPDATE, no IN list).
            conn.execute(
                update(rows)
                .where(
                    rows.c.campaign_id == campaign_id,
                    rows.c.state == "pending",
                    rows.c.subscriber_id.between(
                        pending[0].subscriber_id, pending[-1].subscriber_id
                    ),
                )
                .values(
                    state="sending",
                    batch=batch,
                    reason=None,
                    updated_at=moment,
                    attempts=rows.c.attempts + 1,
                )
            )
        recipients = [(r.subscriber_id, _recipient(r)) for r in taking]
        return Claim(batch, recipients, len(pending) - len(taking))

    def record(
        self, campaign_id: str, batch: int, outcomes: Sequence[tuple[int, Result]]
    ) -> list[str]:
        """Write the provider's answers and return each row's new state.

        RetryLater goes back to pending until MAX_ATTEMPTS, then it is failed.
        """
        moment = now()
        with self.store.write() as conn:
            attempts = dict(
                conn.execute(
                    select(rows.c.subscriber_id, rows.c.attempts).where(
                        rows.c.campaign_id == campaign_id,
                        rows.c.batch == batch,
                        rows.c.state == "sending",
                    )
                ).all()
            )
            groups: dict[tuple[str, str | None, str | None], list[int]] = {}
            states: list[str] = []
            for subscriber_id, result in outcomes:
                outcome = _outcome(result, attempts.get(subscriber_id, 0))
                groups.setdefault(outcome, []).append(subscriber_id)
                states.append(outcome[0])
            for (state, reason, provider_id), ids in groups.items():
                if len(ids) == len(attempts):  # the whole batch had one answer: one UPDATE by batch
                    conn.execute(
                        update(rows)
                        .where(
                            rows.c.campaign_id == campaign_id,
                            rows.c.batch == batch,
                            rows.c.state == "sending",
                        )
                        .values(
                            state=state, reason=reason, provider_id=provider_id, updated_at=moment
                        )
                    )
                else:
                    _set(
                        conn,
                        campaign_id,
                        ids,
                        state=state,
                        reason=reason,
                        provider_id=provider_id,
                        at=moment,
                    )
        return states

    def release(self, campaign_id: str, subscriber_ids: Sequence[int], reason: str) -> None:
        """Put a batch back to pending: the provider refused it before sending anything."""
        with self.store.write() as conn:
            _set(conn, campaign_id, list(subscriber_ids), state="pending", reason=reason, at=now())

    def set_status(self, campaign_id: str, status: str, note: str | None = None) -> None:
        with self.store.write() as conn:
            conn.execute(
                update(campaigns)
                .where(campaigns.c.id == campaign_id)
                .values(status=status, note=note, updated_at=now())
            )

    def retry(self, campaign_id: str, *, failed: bool, uncertain: bool) -> int:
        """Move failed and/or uncertain rows back to pending; returns how many."""
        states = [s for s, wanted in (("failed", failed), ("uncertain", uncertain)) if wanted]
        with self.store.write() as conn:
            result = conn.execute(
                update(rows)
                .where(rows.c.campaign_id == campaign_id, rows.c.state.in_(states))
                .values(state="pending", attempts=0, reason="retry requested", updated_at=now())
            )
            return result.rowcount

    def counts(self, campaign_id: str) -> dict[str, int]:
        with self.store.read() as conn:
            found = dict(
                conn.execute(
                    select(rows.c.state, func.count())
                    .where(rows.c.campaign_id == campaign_id)
                    .group_by(rows.c.state)
                ).all()
            )
        return {state: found.get(state, 0) for state in STATES}

    def deliveries(self, campaign_id: str) -> dict[str, int]:
        """Rows per delivery state the provider's events reported (none yet: not counted)."""
        with self.store.read() as conn:
            found = dict(
                conn.execute(
                    select(rows.c.delivery, func.count())
                    .where(rows.c.campaign_id == campaign_id, rows.c.delivery.is_not(None))
                    .group_by(rows.c.delivery)
                ).all()
            )
        return {state: found.get(state, 0) for state in DELIVERY_RANKS}

    def find(self, campaign_id: str) -> Campaign | None:
        with self.store.read() as conn:
            row = _campaign_row(conn, campaign_id)
        return None if row is None else Campaign(**row)

    def campaign(self, campaign_id: str) -> Campaign:
        found = self.find(campaign_id)
        if found is None:
            raise NewsletterError(f"no campaign {campaign_id!r}; see `newsletter campaigns list`")
        return found

    def campaigns(self) -> list[Campaign]:
        with self.store.read() as conn:
            return [
                Campaign(**r)
                for r in conn.execute(select(campaigns).order_by(campaigns.c.created_at)).mappings()
            ]

    def recipients(
        self, campaign_id: str, states: Sequence[str], limit: int = 100
    ) -> list[dict[str, Any]]:
        """Rows in some states with their addresses, for `campaigns show`."""
        with self.store.read() as conn:
            result = conn.execute(
                select(
                    rows.c.subscriber_id,
                    subscribers.c.email,
                    rows.c.state,
                    rows.c.reason,
                    rows.c.provider_id,
                    rows.c.batch,
                )
                .select_from(rows.outerjoin(subscribers, subscribers.c.id == rows.c.subscriber_id))
                .where(rows.c.campaign_id == campaign_id, rows.c.state.in_(list(states)))
                .order_by(rows.c.subscriber_id)
                .limit(limit)
            ).mappings()
            return [dict(r) for r in result]


def _campaign_row(conn: Connection, campaign_id: str) -> Any:
    return conn.execute(select(campaigns).where(campaigns.c.id == campaign_id)).mappings().first()


def _already_given(slug: str) -> Any:
    """Who another campaign of the same article sent (or may have sent) it to: not again."""
    return (
        select(rows.c.subscriber_id)
        .join(campaigns, campaigns.c.id == rows.c.campaign_id)
        .where(campaigns.c.slug == slug, rows.c.state.in_(["sent", "sending", "uncertain"]))
    )


def _outcome(result: Result, attempts: int) -> tuple[str, str | None, str | None]:
    """(state, reason, provider id) for one answer: one UPDATE per distinct outcome, not per row."""
    if isinstance(result, Sent):
        return "sent", None, result.provider_id
    if isinstance(result, Failed):
        return "failed", result.reason, None
    if isinstance(result, Uncertain):
        return "uncertain", result.reason, None
    if attempts >= MAX_ATTEMPTS:
        return "failed", f"gave up after {MAX_ATTEMPTS} tries: {result.reason}", None
    return "pending", result.reason, None


def _set(
    conn: Connection,
    campaign_id: str,
    subscriber_ids: list[int],
    *,
    state: str,
    at: dt.datetime,
    reason: str | None = None,
    provider_id: str | None = None,
    batch: int | None = None,
) -> None:
    if not subscriber_ids:
        return
    values: dict[str, Any] = {"state": state, "reason": reason, "updated_at": at}
    if provider_id is not None:
        values["provider_id"] = provider_id
    if batch is not None:
        values["batch"] = batch
    for start in range(0, len(subscriber_ids), 500):
        chunk = subscriber_ids[start : start + 500]
        conn.execute(
            update(rows)
            .where(and_(rows.c.campaign_id == campaign_id, rows.c.subscriber_id.in_(chunk)))
            .values(**values)
        )


def _recipient(row: Any) -> Recipient:
    # only the first_name attribute is read from the JSON: decoding every row's attributes cost more
    first = first_name_for(row.name, {"first_name": row.first_name} if row.first_name else {})
    return Recipient(key=str(row.subscriber_id), email=row.email, name=row.name, first_name=first)


def _filters_json(filters: Filters) -> dict[str, Any]:
    return {"tag": filters.tag, "lang": filters.lang}
