"""The campaign journal: one row per recipient, so nobody is mailed twice, skipped or mailed after leaving.

Row states: pending -> sending -> sent | failed | skipped | uncertain (and cancelled). A batch
is committed as ``sending`` before the provider is called and as ``sent`` (with the provider's
id) after it answered. A row still ``sending`` when a run starts was in flight when an earlier
run died: it becomes ``uncertain`` and is resent only by ``campaigns retry --uncertain``. The
audience is frozen when the campaign starts; who unsubscribes meanwhile is ``skipped`` when
their batch comes up, because every claim re-reads the subscriber's current status.

Exactly once holds per issue, not per campaign: each claim takes the batch's readers in the
issue's ledger (newsletter/delivery/ledger.py) in the same transaction, and a reader another
campaign of the issue already took is skipped here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.engine import Connection

from newsletter.audience.models import Filters
from newsletter.audience.queries import filtered, now
from newsletter.audience.store import Store
from newsletter.db.schema import UTCDateTime, campaigns, subscribers
from newsletter.db.schema import campaign_recipients as rows
from newsletter.delivery import ledger
from newsletter.delivery.batches import (
    ANSWERED,
    NEXT_PENDING,
    PEEK_PENDING,
    EditionOf,
    ReadAhead,
    by_owner,
    grouped,
    mark_sending,
    set_editions,
    set_state,
    sort_claimed,
)
from newsletter.delivery.ids import new_id
from newsletter.delivery.states import (
    DELIVERY_RANKS,
    Campaign,
    CampaignStatus,
    Claim,
    NewCampaign,
    Override,
    RowState,
    label_for,
)
from newsletter.errors import NewsletterError
from newsletter.providers.base import Result, RetryLater

__all__ = ["SKIPPED_FOR", "Journal"]

SKIPPED_FOR = "had this issue from campaign"
"""The reason of a row skipped because another campaign took the reader: ``... <its id>``."""


class Journal:
    def __init__(self, store: Store):
        self.store = store
        self._cursor: dict[str, int] = {}
        """Last subscriber id claimed per campaign: each claim starts after it, not from the top."""
        self._batches: dict[str, int] = {}
        """Last batch number per campaign, read once per run."""
        self._issues: dict[str, str] = {}
        """Each campaign's issue, read once per run."""

    def create(self, spec: NewCampaign, *, campaign_id: str | None = None) -> Campaign:
        """Record a campaign: scheduled (nobody frozen yet) or running with its audience frozen."""
        moment = now()
        campaign_id = campaign_id or new_id("c", moment)
        scheduled = spec.send_at is not None
        with self.store.write() as conn:
            conn.execute(
                insert(campaigns).values(
                    id=campaign_id,
                    issue_id=spec.issue_id,
                    slug=spec.slug,
                    label=label_for(spec.slug, spec.filters),
                    article=spec.article,
                    subject=spec.subject,
                    article_sha=spec.article_sha,
                    filters=spec.filters.as_json(),
                    provider=spec.provider,
                    status=CampaignStatus.SCHEDULED if scheduled else CampaignStatus.RUNNING,
                    send_at=spec.send_at,
                    forced=spec.override.reason if spec.override else None,
                    forced_codes=spec.override.codes_text if spec.override else None,
                    started_at=None if scheduled else moment,
                    created_at=moment,
                    updated_at=moment,
                )
            )
            if not scheduled:
                _freeze(conn, campaign_id, spec.issue_id, spec.filters, moment)
        return self.campaign(campaign_id)

    def start(self, campaign_id: str) -> Campaign:
        """Mark the campaign running (freezing its audience now if it has none yet) before a run.

        Rows left ``sending`` by a run that died become ``uncertain``: nobody knows whether
        they went out. Only one live run per campaign may call this (newsletter/delivery/lock.py).
        """
        moment = now()
        with self.store.write() as conn:
            campaign = _campaign(conn, campaign_id)
            if campaign.status == CampaignStatus.CANCELLED:
                raise NewsletterError(f"campaign {campaign.id} ({campaign.label}) was cancelled")
            values: dict[str, Any] = {"status": CampaignStatus.RUNNING, "note": None}
            if campaign.started_at is None:  # scheduled: whoever is subscribed now
                _freeze(conn, campaign_id, campaign.issue_id, campaign.audience, moment)
                values["started_at"] = moment
            conn.execute(
                update(campaigns)
                .where(campaigns.c.id == campaign_id)
                .values(**values, updated_at=moment)
            )
            conn.execute(
                update(rows)
                .where(rows.c.campaign_id == campaign_id, rows.c.state == RowState.SENDING)
                .values(
                    state=RowState.UNCERTAIN,
                    reason="in flight when an earlier run stopped",
                    updated_at=moment,
                )
            )
        return self.campaign(campaign_id)

    def audience_size(self, issue_id: str | None, filters: Filters) -> int:
        """How many a new campaign would freeze: subscribed, matching, not yet given the issue."""
        query = _audience(select(func.count()).select_from(subscribers), issue_id, filters)
        with self.store.read() as conn:
            return int(conn.execute(query).scalar_one())

    def languages(
        self, *, issue_id: str | None, filters: Filters, campaign_id: str | None
    ) -> dict[str, int]:
        """Readers a send would reach now, by language: a new campaign's audience, or the rows
        a campaign still has pending. Readers without a language count as ``?``."""
        if campaign_id is not None:
            query = (
                select(subscribers.c.lang, func.count())
                .select_from(rows.join(subscribers, subscribers.c.id == rows.c.subscriber_id))
                .where(rows.c.campaign_id == campaign_id, rows.c.state == RowState.PENDING)
            )
        else:
            query = _audience(select(subscribers.c.lang, func.count()), issue_id, filters)
        with self.store.read() as conn:
            found = conn.execute(query.group_by(subscribers.c.lang)).all()
        return {lang or "?": count for lang, count in sorted(found, key=lambda r: -r[1])}

    def claim(
        self,
        campaign_id: str,
        size: int,
        *,
        before_second_pass: Callable[[], None] | None = None,
        edition_of: EditionOf = lambda lang: None,
        read_ahead: ReadAhead | None = None,
    ) -> Claim | None:
        """Take the next pending batch (in subscriber order) and mark it sending; None when done.

        A pass runs from the lowest subscriber id to the highest; rows deferred on the way are
        picked up by the next pass, after ``before_second_pass`` (the runner's wait) has run.
        ``edition_of`` names the edition of a reader's language; each row records it. When the
        rows are exactly those ``read_ahead`` (peek) found, its sorting is used again.
        """
        claim = self._claim_after_cursor(campaign_id, size, edition_of, read_ahead)
        if claim is None and self._cursor.pop(campaign_id, 0):
            if before_second_pass is not None:
                before_second_pass()
            claim = self._claim_after_cursor(campaign_id, size, edition_of, read_ahead)
        return claim

    def peek(
        self, campaign_id: str, size: int, edition_of: EditionOf = lambda lang: None
    ) -> ReadAhead | None:
        """Who the next claim in this pass will take if nothing changes, without taking them:
        the runner prepares their batch while the one before is in flight. Only the claim
        decides; a reader who left since, or another sender took, makes the two differ."""
        after = self._cursor.get(campaign_id, 0)
        if not after:  # a new pass begins with the claim itself
            return None
        with self.store.read() as conn:
            pending = conn.execute(
                PEEK_PENDING, {"c_campaign": campaign_id, "c_after": after, "c_size": size}
            ).all()
        return ReadAhead(pending, sort_claimed(pending, edition_of))

    def _claim_after_cursor(
        self, campaign_id: str, size: int, edition_of: EditionOf, read_ahead: ReadAhead | None
    ) -> Claim | None:
        moment = now()
        with self.store.write() as conn:
            after = self._cursor.get(campaign_id, 0)
            pending = conn.execute(
                NEXT_PENDING, {"c_campaign": campaign_id, "c_after": after, "c_size": size}
            ).all()
            if not pending:
                return None
            if self._cancelled(conn, campaign_id, moment):
                return None
            self._cursor[campaign_id] = pending[-1][0]
            batch = self._next_batch(conn, campaign_id)
            if read_ahead is not None and read_ahead.rows == pending:
                sorted_out = read_ahead.claimed
            else:
                sorted_out = sort_claimed(pending, edition_of)
            for reason, ids in sorted_out.left.items():
                set_state(conn, campaign_id, ids, state=RowState.SKIPPED, reason=reason, at=moment)
            taking = sorted_out.taking
            original = edition_of(None)
            sending = {"c_campaign": campaign_id, "c_batch": batch, "c_at": moment}
            conn.execute(*mark_sending(conn, taking, sending | {"c_edition": original}))
            set_editions(conn, campaign_id, sorted_out.editions, original)
            issue_id = self._issue_of(conn, campaign_id)
            owners = ledger.take(conn, issue_id, campaign_id, batch, moment, len(taking))
            for owner, ids in by_owner(owners).items():
                reason = f"{SKIPPED_FOR} {owner}"
                set_state(conn, campaign_id, ids, state=RowState.SKIPPED, reason=reason, at=moment)
        recipients = sorted_out.recipients
        if owners:
            recipients = [(id_, r) for id_, r in recipients if id_ not in owners]
        return Claim(batch, recipients, len(pending) - len(recipients))

    def _cancelled(self, conn: Connection, campaign_id: str, moment: dt.datetime) -> bool:
        """A campaign cancelled while it ran claims nothing more: rows that came back to pending
        since (deferred in the batch in flight) are cancelled too, and free for another one."""
        status = conn.execute(select(campaigns.c.status).where(campaigns.c.id == campaign_id))
        if status.scalar_one() != CampaignStatus.CANCELLED:
            return False
        conn.execute(
            update(rows)
            .where(rows.c.campaign_id == campaign_id, rows.c.state == RowState.PENDING)
            .values(state=RowState.CANCELLED, reason="campaign cancelled", updated_at=moment)
        )
        return True

    def _next_batch(self, conn: Connection, campaign_id: str) -> int:
        if campaign_id not in self._batches:  # once per run: the column has no index
            query = select(func.max(rows.c.batch)).where(rows.c.campaign_id == campaign_id)
            self._batches[campaign_id] = conn.execute(query).scalar() or 0
        self._batches[campaign_id] += 1
        return self._batches[campaign_id]

    def _issue_of(self, conn: Connection, campaign_id: str) -> str:
        if campaign_id not in self._issues:
            query = select(campaigns.c.issue_id).where(campaigns.c.id == campaign_id)
            self._issues[campaign_id] = conn.execute(query).scalar_one()
        return self._issues[campaign_id]

    def record(
        self,
        campaign_id: str,
        batch: int,
        outcomes: Sequence[tuple[int, Result]],
        *,
        whole_edition: str | None = None,
    ) -> list[RowState]:
        """Write the provider's answers and return each row's new state.

        RetryLater goes back to pending until MAX_ATTEMPTS, then it is failed. ``whole_edition``
        says the outcomes are every row of the batch in that edition (the runner's call per
        edition): when they share one answer, one UPDATE writes them all.
        """
        moment = now()
        with self.store.write() as conn:
            attempts = (
                self._attempts(conn, campaign_id, batch)
                if any(isinstance(result, RetryLater) for _, result in outcomes)
                else {}
            )
            groups, states = grouped(outcomes, attempts)
            for (state, reason, provider_id), ids in groups.items():
                if state == RowState.PENDING:  # not sent after all: free for any campaign
                    ledger.forget(conn, self._issue_of(conn, campaign_id), campaign_id, ids)
                if whole_edition is not None and len(groups) == 1:
                    conn.execute(
                        ANSWERED,
                        {
                            "c_campaign": campaign_id,
                            "c_batch": batch,
                            "c_edition": whole_edition,
                            "c_state": state,
                            "c_reason": reason,
                            "c_provider_id": provider_id,
                            "c_at": moment,
                        },
                    )
                else:
                    set_state(
                        conn,
                        campaign_id,
                        ids,
                        state=state,
                        reason=reason,
                        provider_id=provider_id,
                        at=moment,
                    )
        return states

    def _attempts(self, conn: Connection, campaign_id: str, batch: int) -> dict[int, int]:
        """Tries so far of the batch's rows in flight: only a deferral needs them."""
        found = conn.execute(
            select(rows.c.subscriber_id, rows.c.attempts).where(
                rows.c.campaign_id == campaign_id,
                rows.c.batch == batch,
                rows.c.state == RowState.SENDING,
            )
        ).all()
        return {subscriber_id: attempts for subscriber_id, attempts in found}

    def release(self, campaign_id: str, subscriber_ids: Sequence[int], reason: str) -> None:
        """Put a batch back to pending: the provider refused it before sending anything."""
        with self.store.write() as conn:
            ids = list(subscriber_ids)
            set_state(conn, campaign_id, ids, state=RowState.PENDING, reason=reason, at=now())
            ledger.forget(conn, self._issue_of(conn, campaign_id), campaign_id, ids)

    def set_status(self, campaign_id: str, status: CampaignStatus, note: str | None = None) -> None:
        """Move a running campaign on; a cancellation made meanwhile is never overwritten."""
        with self.store.write() as conn:
            conn.execute(
                update(campaigns)
                .where(
                    campaigns.c.id == campaign_id, campaigns.c.status != CampaignStatus.CANCELLED
                )
                .values(status=status, note=note, updated_at=now())
            )

    def reschedule(self, campaign_id: str, send_at: dt.datetime) -> None:
        """Move a campaign that has not started to another time."""
        with self.store.write() as conn:
            conn.execute(
                update(campaigns)
                .where(
                    campaigns.c.id == campaign_id, campaigns.c.status == CampaignStatus.SCHEDULED
                )
                .values(send_at=send_at, updated_at=now())
            )

    def amend(
        self, campaign_id: str, *, provider: str | None = None, override: Override | None = None
    ) -> None:
        """Another provider for what is left of it, or a new --force reason and what it covers."""
        values: dict[str, Any] = {"updated_at": now()}
        if provider:
            values["provider"] = provider
        if override is not None:
            values.update(forced=override.reason, forced_codes=override.codes_text)
        with self.store.write() as conn:
            conn.execute(update(campaigns).where(campaigns.c.id == campaign_id).values(**values))

    def clear_overrides(self, issue_id: str) -> None:
        """A new snapshot of the issue is judged afresh: earlier --force reasons do not cover it."""
        with self.store.write() as conn:
            conn.execute(
                update(campaigns)
                .where(campaigns.c.issue_id == issue_id, campaigns.c.forced.is_not(None))
                .values(forced=None, forced_codes=None, updated_at=now())
            )

    def cancel(self, campaign_id: str) -> int:
        """Claim nothing further; its pending and failed readers become free for another campaign
        of the issue, and pending again in a sibling campaign that skipped them for this one.

        Returns how many were still pending. A batch in flight finishes and is recorded.
        """
        moment = now()
        with self.store.write() as conn:
            campaign = _campaign(conn, campaign_id)
            if campaign.status == CampaignStatus.CANCELLED:
                return 0
            if campaign.status == CampaignStatus.FINISHED:
                raise NewsletterError(
                    f"campaign {campaign.id} ({campaign.label}) has finished; nothing to cancel"
                )
            conn.execute(
                update(campaigns)
                .where(campaigns.c.id == campaign_id)
                .values(status=CampaignStatus.CANCELLED, note="cancelled", updated_at=moment)
            )
            stopped = conn.execute(
                update(rows)
                .where(rows.c.campaign_id == campaign_id, rows.c.state == RowState.PENDING)
                .values(state=RowState.CANCELLED, reason="campaign cancelled", updated_at=moment)
            ).rowcount
            ledger.release(
                conn, campaign.issue_id, campaign_id, [RowState.CANCELLED, RowState.FAILED]
            )
            _revive_siblings(conn, campaign, moment)
            return stopped

    def retry(self, campaign_id: str, *, failed: bool, uncertain: bool) -> int:
        """Move failed and/or uncertain rows back to pending; returns how many."""
        states = [
            s
            for s, wanted in ((RowState.FAILED, failed), (RowState.UNCERTAIN, uncertain))
            if wanted
        ]
        with self.store.write() as conn:
            campaign = _campaign(conn, campaign_id)
            if campaign.status == CampaignStatus.CANCELLED:
                raise NewsletterError(
                    f"campaign {campaign.id} ({campaign.label}) was cancelled; send the article "
                    "again to reach whoever it did not"
                )
            if campaign.started_at is None:
                raise NewsletterError(
                    f"campaign {campaign.id} ({campaign.label}) has not started, so nobody has "
                    f"failed yet; `newsletter campaigns resume {campaign.id}` sends it now"
                )
            result = conn.execute(
                update(rows)
                .where(rows.c.campaign_id == campaign_id, rows.c.state.in_(states))
                .values(
                    state=RowState.PENDING, attempts=0, reason="retry requested", updated_at=now()
                )
            )
            return result.rowcount

    def counts(self, campaign_id: str) -> dict[RowState, int]:
        with self.store.read() as conn:
            found: dict[str, int] = dict(
                conn.execute(
                    select(rows.c.state, func.count())
                    .where(rows.c.campaign_id == campaign_id)
                    .group_by(rows.c.state)
                ).all()
            )
        return {state: found.get(state, 0) for state in RowState}

    def sent_by_edition(self, campaign_id: str, original: str) -> dict[str, int]:
        """Readers sent each edition (rows from before editions were recorded: the original)."""
        with self.store.read() as conn:
            found = conn.execute(
                select(rows.c.edition, func.count())
                .where(rows.c.campaign_id == campaign_id, rows.c.state == RowState.SENT)
                .group_by(rows.c.edition)
            ).all()
        counts: dict[str, int] = {}
        for edition, count in found:
            counts[edition or original] = counts.get(edition or original, 0) + count
        return dict(sorted(counts.items(), key=lambda item: -item[1]))

    def confirmed(self, campaign_id: str) -> int:
        """Rows once uncertain that a provider event settled."""
        with self.store.read() as conn:
            return int(
                conn.execute(
                    select(func.count()).where(
                        rows.c.campaign_id == campaign_id, rows.c.evidence.is_not(None)
                    )
                ).scalar_one()
            )

    def deliveries(self, campaign_id: str) -> dict[str, int]:
        """Rows per delivery state the provider's events reported (none yet: not counted)."""
        with self.store.read() as conn:
            found: dict[str, int] = dict(
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
        return None if row is None else _from_row(row)

    def campaign(self, campaign_id: str) -> Campaign:
        found = self.find(campaign_id)
        if found is None:
            raise NewsletterError(f"no campaign {campaign_id!r}; see `newsletter campaigns list`")
        return found

    def campaigns(
        self, *, issue_id: str | None = None, statuses: Sequence[CampaignStatus] = ()
    ) -> list[Campaign]:
        """Campaigns oldest first, of one issue and in some statuses when asked."""
        query = select(campaigns).order_by(campaigns.c.created_at, campaigns.c.id)
        if issue_id is not None:
            query = query.where(campaigns.c.issue_id == issue_id)
        if statuses:
            query = query.where(campaigns.c.status.in_(list(statuses)))
        with self.store.read() as conn:
            return [_from_row(r) for r in conn.execute(query).mappings()]

    def published(self, moment: dt.datetime) -> dict[str, dt.datetime]:
        """Issue id -> when it first reached the whole list (not a segment), as of ``moment``.

        A campaign counts once it sent someone and its time has come: the archive never shows
        a scheduled issue early, nor one only a tag or a language received.
        """
        delivered = exists().where(
            rows.c.campaign_id == campaigns.c.id, rows.c.state == RowState.SENT
        )
        sent_at = type_coerce(
            func.coalesce(campaigns.c.send_at, campaigns.c.created_at), UTCDateTime
        )
        query = (
            select(campaigns.c.issue_id, sent_at, campaigns.c.filters)
            .where(delivered, sent_at <= moment)
            .order_by(sent_at)
        )
        first: dict[str, dt.datetime] = {}
        with self.store.read() as conn:
            for issue_id, when, filters in conn.execute(query):
                if not any((filters or {}).values()):  # to everyone: no tag, no language
                    first.setdefault(issue_id, when)
        return first

    def due(self, moment: dt.datetime) -> list[Campaign]:
        """Scheduled campaigns whose time has come, and scheduled ones a crash left running."""
        query = (
            select(campaigns)
            .where(
                campaigns.c.status.in_([CampaignStatus.SCHEDULED, CampaignStatus.RUNNING]),
                campaigns.c.send_at.is_not(None),
                campaigns.c.send_at <= moment,
            )
            .order_by(campaigns.c.send_at, campaigns.c.id)
        )
        with self.store.read() as conn:
            return [_from_row(r) for r in conn.execute(query).mappings()]

    def recipients(
        self, campaign_id: str, states: Sequence[RowState], limit: int = 100
    ) -> list[dict[str, Any]]:
        """Rows in some states with their addresses, for `campaigns show`; a pending row the
        provider deferred counts as ``deferred``, with the provider's reason."""
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
                .where(
                    rows.c.campaign_id == campaign_id,
                    or_(
                        rows.c.state.in_(list(states)),
                        and_(rows.c.state == RowState.PENDING, rows.c.attempts > 0),
                    ),
                )
                .order_by(rows.c.subscriber_id)
                .limit(limit)
            ).mappings()
            return [
                {**r, "state": "deferred"} if r["state"] == RowState.PENDING else dict(r)
                for r in result
            ]


def _revive_siblings(conn: Connection, cancelled: Campaign, moment: dt.datetime) -> None:
    """Readers another campaign of the issue skipped because the cancelled one had them are
    pending there again (and that campaign, if it had finished, is paused: it has work left)."""
    skipped_for_it = f"{SKIPPED_FOR} {cancelled.id}"
    revived = conn.execute(
        update(rows)
        .where(
            rows.c.state == RowState.SKIPPED,
            rows.c.reason == skipped_for_it,
            rows.c.campaign_id.in_(
                select(campaigns.c.id).where(
                    campaigns.c.issue_id == cancelled.issue_id,
                    campaigns.c.status != CampaignStatus.CANCELLED,
                )
            ),
            rows.c.subscriber_id.not_in(ledger.readers(cancelled.issue_id)),
        )
        .values(
            state=RowState.PENDING,
            reason=f"free again: {cancelled.id} was cancelled",
            updated_at=moment,
        )
        .returning(rows.c.campaign_id)
    ).scalars()
    for campaign_id in set(revived):
        conn.execute(
            update(campaigns)
            .where(campaigns.c.id == campaign_id, campaigns.c.status == CampaignStatus.FINISHED)
            .values(
                status=CampaignStatus.PAUSED,
                note=f"readers of cancelled {cancelled.id} are pending here",
                updated_at=moment,
            )
        )


def _audience(query: Select[Any], issue_id: str | None, filters: Filters) -> Select[Any]:
    """Subscribed, matching the filters, and not yet given the issue (when it exists)."""
    query = filtered(query, filters.subscribed())
    if issue_id is None:
        return query
    return query.where(subscribers.c.id.not_in(ledger.readers(issue_id)))


def _freeze(
    conn: Connection, campaign_id: str, issue_id: str, filters: Filters, moment: dt.datetime
) -> None:
    """Freeze the audience into the journal: one pending row each."""
    frozen = _audience(select(subscribers.c.id), issue_id, filters).subquery()
    conn.execute(
        insert(rows).from_select(
            ["campaign_id", "subscriber_id", "state", "attempts", "updated_at"],
            select(
                literal(campaign_id),
                frozen.c.id,
                literal(RowState.PENDING.value),
                literal(0),
                literal(moment, UTCDateTime()),
            ),
        )
    )


def _campaign_row(conn: Connection, campaign_id: str) -> Any:
    return conn.execute(select(campaigns).where(campaigns.c.id == campaign_id)).mappings().first()


def _campaign(conn: Connection, campaign_id: str) -> Campaign:
    row = _campaign_row(conn, campaign_id)
    if row is None:
        raise NewsletterError(f"no campaign {campaign_id!r}; see `newsletter campaigns list`")
    return _from_row(row)


def _from_row(row: Any) -> Campaign:
    values = dict(row)
    values["status"] = CampaignStatus(values["status"])
    values["label"] = values["label"] or values["id"]
    return Campaign(**values)
