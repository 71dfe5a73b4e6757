"""Provider events (delivered, bounced, complained, ...) applied to the list and the journal.

Providers deliver events at least once, late and out of order, in batches. So a batch is one
write transaction; an event id already stored changes nothing; an event older than a
subscriber's current status never undoes it (someone who resubscribed stays subscribed); and a
recipient's delivery state only ever moves up ``DELIVERY_RANKS``. A change is dated by its
event (status_changed_at and the history row), so later events compare with when things
happened, not when they arrived. Each provider's wire format is parsed in its own module
(newsletter/providers/sendgrid_events.py) into ProviderEvent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from sqlalchemy import bindparam, case, delete, select, update
from sqlalchemy.engine import Connection

from newsletter.addresses import InvalidAddress, normalize
from newsletter.audience.models import Move, Status
from newsletter.audience.queries import apply_statuses, now
from newsletter.audience.store import Store
from newsletter.db.bulk import bulk_execute, chunked
from newsletter.db.engine import insert_adding, insert_ignoring
from newsletter.db.schema import campaign_recipients, event_hours, provider_events, subscribers
from newsletter.delivery.states import DELIVERY_RANKS, RowState
from newsletter.providers.base import ProviderEvent

__all__ = ["DELIVERY", "EventSummary", "ProviderEvent", "apply_events", "hour_of", "prune_events"]


@dataclass
class EventSummary:
    received: int = 0
    duplicates: int = 0
    """Already stored (a provider's retry) or repeated within the batch: they change nothing."""
    applied: int = 0
    """New events, now stored."""
    status_changes: dict[str, int] = field(default_factory=dict)
    """How many subscribers moved to each status."""
    ignored: int = 0
    """New events that matched no subscriber: unknown id or address, a test send, not our mail."""
    confirmed: int = 0
    """Uncertain journal rows these events settled: the provider had the message after all."""


DELIVERY = {
    "processed": "processed",
    "deferred": "deferred",
    "delivered": "delivered",
    "bounce": "bounced",
    "soft_bounce": "bounced",
    "dropped": "dropped",
    "complaint": "complained",
}
"""The delivery state each kind reports. Opens and clicks are kept as events only: image
proxies open mail nobody read, so they say little about delivery."""

_ACTIVE = frozenset({Status.SUBSCRIBED, Status.PENDING})
_MAY_MOVE_FROM = {
    Status.BOUNCED: _ACTIVE,
    Status.UNSUBSCRIBED: _ACTIVE,
    Status.COMPLAINED: _ACTIVE | {Status.UNSUBSCRIBED, Status.BOUNCED},
}
"""Events only ever suppress (complained and blocked are final); only people bring someone back."""
_SUPPRESSES = {
    "bounce": Status.BOUNCED,
    "complaint": Status.COMPLAINED,
    "unsubscribe": Status.UNSUBSCRIBED,
}
_DROPPED_BECAUSE = (
    ("bounced address", Status.BOUNCED),
    ("spam reporting address", Status.COMPLAINED),
    ("unsubscribed address", Status.UNSUBSCRIBED),
)
_BY_ADDRESS_KINDS = frozenset({"bounce", "soft_bounce", "dropped", "complaint", "unsubscribe"})
"""Kinds that may change a status, so worth matching by address when the mail carried no ids."""

_RAISE_DELIVERY = (
    update(campaign_recipients)
    .where(
        campaign_recipients.c.campaign_id == bindparam("b_campaign"),
        campaign_recipients.c.subscriber_id == bindparam("b_subscriber"),
        case(DELIVERY_RANKS, value=campaign_recipients.c.delivery, else_=0) < bindparam("b_rank"),
    )
    .values(delivery=bindparam("b_delivery"))
)
_SETTLES = {
    "processed": RowState.SENT,
    "deferred": RowState.SENT,
    "delivered": RowState.SENT,
    "bounce": RowState.SENT,
    "soft_bounce": RowState.SENT,
    "dropped": RowState.FAILED,
}
"""What an event proves about a message whose send was uncertain: the provider had it (it
was processed, deferred, delivered or bounced), or it will never go out (dropped)."""
_SETTLE = (
    update(campaign_recipients)
    .where(
        campaign_recipients.c.campaign_id == bindparam("b_campaign"),
        campaign_recipients.c.subscriber_id == bindparam("b_subscriber"),
        campaign_recipients.c.state == RowState.UNCERTAIN.value,
    )
    .values(
        state=bindparam("b_state"), reason=bindparam("b_reason"), evidence=bindparam("b_evidence")
    )
)
_SET_COUNTERS = (
    update(subscribers)
    .where(subscribers.c.id == bindparam("b_id"))
    .values(bounce_count=bindparam("b_count"), last_bounce_reason=bindparam("b_reason"))
)


def apply_events(
    store: Store, events: Sequence[ProviderEvent], *, soft_bounce_limit: int = 3
) -> EventSummary:
    """Store a batch of events and apply the new ones, all in one write transaction."""
    unique: dict[str, ProviderEvent] = {}
    for event in events:
        unique.setdefault(event.event_id, event)
    summary = EventSummary(received=len(events))
    with store.write() as conn:
        new = _store_new(conn, list(unique.values()))
        summary.applied, summary.duplicates = len(new), len(events) - len(new)
        _apply_to_subscribers(conn, new, soft_bounce_limit, summary)
        _raise_deliveries(conn, new)
        _count_hours(conn, new)
        summary.confirmed = _settle_uncertain(conn, new)
    return summary


def prune_events(store: Store, older_than: dt.timedelta = dt.timedelta(days=7)) -> int:
    """Forget old event ids; returns how many. Providers retry for days (SendGrid: 72 hours)."""
    with store.write() as conn:
        result = conn.execute(
            delete(provider_events).where(provider_events.c.received_at < now() - older_than)
        )
        return result.rowcount


def _store_new(conn: Connection, events: Sequence[ProviderEvent]) -> list[ProviderEvent]:
    """Insert the events whose ids are not stored yet; returns those, oldest first."""
    if not events:
        return []
    moment = now()
    rows = [
        {
            "event_id": e.event_id,
            "provider": e.provider,
            "kind": e.kind,
            "subscriber_id": e.subscriber_id,
            "campaign_id": e.campaign_id,
            "occurred_at": e.occurred_at,
            "received_at": moment,
        }
        for e in events
    ]
    statement = insert_ignoring(conn, provider_events).returning(provider_events.c.event_id)
    stored = set(conn.execute(statement, rows).scalars())
    return sorted((e for e in events if e.event_id in stored), key=attrgetter("occurred_at"))


def _apply_to_subscribers(
    conn: Connection, events: Sequence[ProviderEvent], limit: int, summary: EventSummary
) -> None:
    """Status changes (with history) and bounce counters, oldest event first."""
    keys = _address_keys(events)
    states, ids_by_key = _load_subscribers(conn, events, keys)
    before = {i: (s["bounce_count"], s["last_bounce_reason"]) for i, s in states.items()}
    moves: list[Move] = []
    for event in events:
        subscriber_id = _matched_id(event, keys, ids_by_key)
        state = None if subscriber_id is None else states.get(subscriber_id)
        if state is None:
            summary.ignored += 1
            continue
        moved = _transition(state, event, limit)
        if moved is not None:
            status, reason = moved
            moves.append(
                Move(
                    state["id"],
                    Status(state["status"]),
                    status,
                    event.provider,
                    reason,
                    event.occurred_at,
                    event.campaign_id,
                )
            )
            state.update(status=status, status_changed_at=event.occurred_at)
            summary.status_changes[status.value] = summary.status_changes.get(status.value, 0) + 1
    apply_statuses(conn, moves)
    _save_counters(conn, states, before)


def _matched_id(
    event: ProviderEvent, keys: Mapping[str, str], ids_by_key: Mapping[str, int]
) -> int | None:
    if not _by_address(event):
        return event.subscriber_id
    key = keys.get(event.email or "")
    return None if key is None else ids_by_key.get(key)


def _by_address(event: ProviderEvent) -> bool:
    """Mail that carried none of our ids (test sends carry a campaign, so never match) and may
    change a status: the address is all there is to go by."""
    return (
        event.subscriber_id is None
        and event.campaign_id is None
        and bool(event.email)
        and event.kind in _BY_ADDRESS_KINDS
    )


def _address_keys(events: Sequence[ProviderEvent]) -> dict[str, str]:
    """Address -> email_key for the events matched by address (unmailable ones match nobody)."""
    keys: dict[str, str] = {}
    for event in filter(_by_address, events):
        try:
            keys[event.email or ""] = normalize(event.email or "", unicode_local=True).key
        except InvalidAddress:
            continue
    return keys


def _load_subscribers(
    conn: Connection, events: Sequence[ProviderEvent], keys: Mapping[str, str]
) -> tuple[dict[int, dict[str, Any]], dict[str, int]]:
    """Every subscriber the batch names, by id and by address key, in a few IN queries."""
    columns = (
        subscribers.c.id,
        subscribers.c.email_key,
        subscribers.c.status,
        subscribers.c.status_changed_at,
        subscribers.c.confirmed_at,
        subscribers.c.bounce_count,
        subscribers.c.last_bounce_reason,
    )
    ids = sorted({e.subscriber_id for e in events if e.subscriber_id is not None})
    states: dict[int, dict[str, Any]] = {}
    for column, values in (
        (subscribers.c.id, ids),
        (subscribers.c.email_key, sorted(set(keys.values()))),
    ):
        for chunk in chunked(values):
            for row in conn.execute(select(*columns).where(column.in_(chunk))).mappings():
                states[row["id"]] = dict(row)
    return states, {s["email_key"]: i for i, s in states.items()}


def _transition(
    state: dict[str, Any], event: ProviderEvent, limit: int
) -> tuple[Status, str] | None:
    """The status this event moves the subscriber to, with the history reason; counters in place."""
    if event.occurred_at < state["status_changed_at"]:
        return None  # it happened before the current status was set: history, not news
    if event.kind == "delivered":
        state["bounce_count"] = 0
        return None
    if event.kind == "soft_bounce":
        return _soft_bounce(state, event, limit)
    if event.kind == "bounce":
        state["last_bounce_reason"] = event.reason
    status = (
        _dropped_status(event.reason) if event.kind == "dropped" else _SUPPRESSES.get(event.kind)
    )
    if status is None or Status(state["status"]) not in _MAY_MOVE_FROM[status]:
        return None
    return status, f"{event.kind}: {event.reason}" if event.reason else event.kind


def _soft_bounce(
    state: dict[str, Any], event: ProviderEvent, limit: int
) -> tuple[Status, str] | None:
    """Counts soft bounces in a row while active; the limit-th one marks the address bounced."""
    if Status(state["status"]) not in _ACTIVE:
        return None
    count = state["bounce_count"]
    count = (count if count < limit else 0) + 1  # a count left at the limit before a resubscribe
    state.update(bounce_count=count, last_bounce_reason=event.reason)
    if count < limit:
        return None
    return Status.BOUNCED, f"soft bounce {count} of {limit}: {event.reason or 'no reason given'}"


def _dropped_status(reason: str | None) -> Status | None:
    """Why the provider would not even try. "Invalid SMTPAPI header" is our fault, not the address's."""
    text = (reason or "").strip().lower()
    if text in ("invalid", "invalid address"):
        return Status.BOUNCED
    return next((status for words, status in _DROPPED_BECAUSE if words in text), None)


def _save_counters(
    conn: Connection,
    states: Mapping[int, Mapping[str, Any]],
    before: Mapping[int, tuple[int, str | None]],
) -> None:
    changed = [
        {"b_id": i, "b_count": s["bounce_count"], "b_reason": s["last_bounce_reason"]}
        for i, s in states.items()
        if (s["bounce_count"], s["last_bounce_reason"]) != before[i]
    ]
    if changed:
        conn.execute(_SET_COUNTERS, changed)


def _raise_deliveries(conn: Connection, events: Sequence[ProviderEvent]) -> None:
    """Move each recipient's delivery state up to the highest its new events report."""
    best: dict[tuple[str, int], str] = {}
    for e in events:
        delivery = DELIVERY.get(e.kind)
        if delivery is None or e.campaign_id is None or e.subscriber_id is None:
            continue
        key = (e.campaign_id, e.subscriber_id)
        if key not in best or DELIVERY_RANKS[delivery] > DELIVERY_RANKS[best[key]]:
            best[key] = delivery
    if best:
        bulk_execute(
            conn,
            _RAISE_DELIVERY,
            [
                {"b_campaign": c, "b_subscriber": s, "b_delivery": d, "b_rank": DELIVERY_RANKS[d]}
                for (c, s), d in best.items()
            ],
        )


def _count_hours(conn: Connection, events: Sequence[ProviderEvent]) -> None:
    """Add the events of our campaigns to their hourly counts, which the report reads."""
    counts: dict[tuple[str, str, dt.datetime], int] = {}
    for e in events:
        if e.campaign_id is not None and e.subscriber_id is not None:
            key = (e.campaign_id, e.kind, hour_of(e.occurred_at))
            counts[key] = counts.get(key, 0) + 1
    if counts:
        rows = [
            {"campaign_id": c, "kind": k, "hour": h, "count": n} for (c, k, h), n in counts.items()
        ]
        conn.execute(insert_adding(conn, event_hours, "count"), rows)


def hour_of(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _settle_uncertain(conn: Connection, events: Sequence[ProviderEvent]) -> int:
    """Uncertain rows the events speak for become sent (or failed, when dropped), with evidence."""
    settled: dict[tuple[str, int], ProviderEvent] = {}
    for e in events:
        if e.kind not in _SETTLES or e.campaign_id is None or e.subscriber_id is None:
            continue
        key = (e.campaign_id, e.subscriber_id)
        if key not in settled or _SETTLES[e.kind] == RowState.FAILED:  # a drop is final
            settled[key] = e
    if not settled:
        return 0
    uncertain = {
        (c, s)
        for c, s in conn.execute(
            select(campaign_recipients.c.campaign_id, campaign_recipients.c.subscriber_id).where(
                # few rows are ever uncertain: the (campaign, state) index finds them all
                campaign_recipients.c.campaign_id.in_(sorted({c for c, _ in settled})),
                campaign_recipients.c.state == RowState.UNCERTAIN.value,
            )
        )
    }
    rows = [
        {
            "b_campaign": c,
            "b_subscriber": s,
            "b_state": _SETTLES[e.kind].value,
            "b_reason": f"dropped by {e.provider}: {e.reason}" if e.kind == "dropped" else None,
            "b_evidence": f"{e.provider} {e.kind} at {e.occurred_at.isoformat(timespec='seconds')}",
        }
        for (c, s), e in settled.items()
        if (c, s) in uncertain
    ]
    bulk_execute(conn, _SETTLE, rows)
    return len(rows)
