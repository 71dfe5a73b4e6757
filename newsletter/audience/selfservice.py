"""What subscribers do for themselves on the web: leave, come back, sign up, confirm.

Each is one short write transaction, idempotent, and recorded in the status history with
actor "web". Nothing here tells a caller whether an address was on the list: the web layer
answers the same either way, and these functions return only what it needs to act on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from newsletter.addresses import Address
from newsletter.audience.models import Move, Status
from newsletter.audience.queries import (
    apply_status,
    apply_statuses,
    insert_subscriber,
    is_suppressed,
    now,
    record_history,
    update_subscriber,
)
from newsletter.audience.rows import check_row
from newsletter.audience.store import Store
from newsletter.db.schema import confirmations, history, subscribers

__all__ = [
    "Invitation",
    "Leaving",
    "Member",
    "SignupRequest",
    "clean_name",
    "confirm",
    "member",
    "prune_confirmations",
    "request_signup",
    "resubscribe",
    "unsubscribe",
    "unsubscribe_many",
]

ACTOR = "web"
NAME_LIMIT = 100
_MAY_CONFIRM = {Status.PENDING, Status.UNSUBSCRIBED}
"""Who a confirmed sign-up may (re)subscribe: never a bounced, complaining or blocked address."""


@dataclass(frozen=True)
class Member:
    """What the unsubscribe page shows: no address, only the state and the language."""

    id: int
    status: Status
    lang: str | None
    may_return: bool = False
    """Left through the web (the page or one-click), so the page may offer to come back.

    Not for someone a provider unsubscribed (its own suppression would drop the mail) or
    an editor did (they may have asked by email, for reasons the page cannot know).
    """


@dataclass(frozen=True)
class SignupRequest:
    address: Address
    name: str | None
    lang: str
    consent_text: str
    form: str
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class Invitation:
    """A confirmation email to send."""

    email: str
    name: str | None
    lang: str


def member(store: Store, subscriber_id: int) -> Member | None:
    with store.read() as conn:
        row = _row(conn, subscriber_id)
        return None if row is None else _member(conn, row)


def unsubscribe(
    store: Store, subscriber_id: int, *, reason: str, campaign: str | None = None
) -> Member | None:
    """Leave at once (one-click or the page's button); leaving twice changes nothing."""
    return unsubscribe_many(store, [Leaving(subscriber_id, reason, campaign)])[0]


class Leaving(NamedTuple):
    subscriber_id: int
    reason: str
    campaign: str | None = None
    """The campaign whose unsubscribe link was used: the report counts leavers per issue."""


def unsubscribe_many(store: Store, requests: Sequence[Leaving]) -> list[Member | None]:
    """Many leavers in one transaction (the web app groups concurrent one-clicks), in order.

    Two statements for the whole group, whatever its size (apply_statuses): compiling
    statements per leaver cost more than SQLite's work.
    """
    moment = now()
    with store.write() as conn:
        ids = sorted({leaving.subscriber_id for leaving in requests})
        rows = {
            row["id"]: row
            for row in conn.execute(select(subscribers).where(subscribers.c.id.in_(ids))).mappings()
        }
        statuses = {subscriber_id: Status(row["status"]) for subscriber_id, row in rows.items()}
        moves = []
        for subscriber_id, reason, campaign in requests:
            if statuses.get(subscriber_id) in (Status.SUBSCRIBED, Status.PENDING):
                moves.append(
                    Move(
                        subscriber_id,
                        statuses[subscriber_id],
                        Status.UNSUBSCRIBED,
                        ACTOR,
                        reason,
                        moment,
                        campaign,
                    )
                )
                statuses[subscriber_id] = Status.UNSUBSCRIBED
        apply_statuses(conn, moves)
        left = {move[0] for move in moves}
        members = {
            subscriber_id: Member(subscriber_id, Status.UNSUBSCRIBED, row["lang"], True)
            if subscriber_id in left
            else _member(conn, row)
            for subscriber_id, row in rows.items()
        }
    return [members.get(leaving.subscriber_id) for leaving in requests]


def resubscribe(
    store: Store, subscriber_id: int, *, ip: str | None, user_agent: str | None
) -> tuple[Member | None, bool]:
    """Come back from the unsubscribe page: only who left through the web, with evidence.

    Returns the reader and whether they came back (False: not allowed, or never left).
    """
    moment = now()
    with store.write() as conn:
        row = _row(conn, subscriber_id)
        if row is None:
            return None, False
        current = _member(conn, row)
        if not current.may_return:
            return current, False
        update_subscriber(
            conn,
            row["id"],
            {
                "consent_at": moment,
                "consent_method": "resubscribed on the unsubscribe page",
                "consent_ip": ip,
                "consent_user_agent": user_agent,
            },
        )
        reason = "resubscribed on the unsubscribe page"
        apply_status(conn, row, Status.SUBSCRIBED, actor=ACTOR, reason=reason, at=moment)
    return Member(row["id"], Status.SUBSCRIBED, row["lang"]), True


def choose_lang(store: Store, subscriber_id: int, lang: str) -> Member | None:
    """A reader picks the edition they read (from the unsubscribe page); the history says so."""
    lang = check_row(lang=lang).lang or lang
    moment = now()
    with store.write() as conn:
        row = _row(conn, subscriber_id)
        if row is None:
            return None
        if row["lang"] != lang:
            update_subscriber(conn, row["id"], {"lang": lang})
            status = Status(row["status"])
            said = f"set lang {lang!r} (was {row['lang']!r}) on the unsubscribe page"
            record_history(conn, [(row["id"], status, status, ACTOR, said, moment)])
        current = _member(conn, row)
    return Member(current.id, current.status, lang, current.may_return)


def request_signup(store: Store, request: SignupRequest, nonce: str) -> Invitation | None:
    """Record a sign-up as pending with its confirmation nonce; None when no email should go.

    No email goes to an address already subscribed, or one that bounced, complained, was
    blocked or erased: the page answers the same, so nobody learns who is on the list.
    """
    address, moment = request.address, now()
    with store.write() as conn:
        if is_suppressed(conn, address.key):
            return None
        row = (
            conn.execute(select(subscribers).where(subscribers.c.email_key == address.key))
            .mappings()
            .first()
        )
        if row is None:
            subscriber_id = _insert_pending(conn, request, moment)
        elif Status(row["status"]) in _MAY_CONFIRM:
            subscriber_id = row["id"]
        else:
            return None
        conn.execute(
            insert(confirmations).values(
                nonce=nonce,
                subscriber_id=subscriber_id,
                created_at=moment,
                lang=request.lang,
                name=request.name,
                consent_text=request.consent_text,
                form=request.form,
                ip=request.ip,
                user_agent=request.user_agent,
            )
        )
    return Invitation(address.email, request.name, request.lang)


def confirm(
    store: Store, nonce: str, *, max_age: dt.timedelta, ip: str | None, user_agent: str | None
) -> Member | None:
    """Use a confirmation once: pending (or gone) becomes subscribed, with consent evidence.

    None when the link is unknown, used, expired, or older than the reader's leaving (a link
    from before they unsubscribed cannot bring them back), or when the address bounced,
    complained or was blocked since; an already subscribed reader is simply told so.
    """
    moment = now()
    with store.write() as conn:
        used = (
            conn.execute(
                update(confirmations)
                .where(
                    confirmations.c.nonce == nonce,
                    confirmations.c.used_at.is_(None),
                    confirmations.c.created_at > moment - max_age,
                )
                .values(used_at=moment)
                .returning(*confirmations.c)
            )
            .mappings()
            .first()
        )
        if used is None:
            return None
        row = _row(conn, used["subscriber_id"])
        if row is None or not _may_confirm(row, used):
            already = row is not None and row["status"] == Status.SUBSCRIBED
            return Member(row["id"], Status.SUBSCRIBED, row["lang"]) if already else None  # type: ignore[index]
        update_subscriber(conn, row["id"], _consent(row, used, moment, ip, user_agent))
        apply_status(
            conn,
            row,
            Status.SUBSCRIBED,
            actor=ACTOR,
            reason="confirmed sign-up (double opt-in)",
            at=moment,
        )
    return Member(row["id"], Status.SUBSCRIBED, used["lang"] or row["lang"])


def prune_confirmations(store: Store, older_than: dt.timedelta) -> int:
    """Delete expired, unused confirmations: a name, an IP and a user agent nobody confirmed.

    Used ones stay as the sign-up's evidence until the subscriber is erased.
    """
    with store.write() as conn:
        result = conn.execute(
            delete(confirmations).where(
                confirmations.c.created_at < now() - older_than, confirmations.c.used_at.is_(None)
            )
        )
    return int(result.rowcount or 0)


def _may_confirm(row: RowMapping, used: RowMapping) -> bool:
    if Status(row["status"]) not in _MAY_CONFIRM:
        return False
    left = row["unsubscribed_at"]
    return left is None or used["created_at"] > left


def _consent(
    row: RowMapping, used: RowMapping, moment: dt.datetime, ip: str | None, user_agent: str | None
) -> dict[str, object]:
    values: dict[str, object] = {
        "consent_at": moment,
        "consent_method": f"double opt-in ({used['form']}): {used['consent_text']}",
        "consent_ip": ip,
        "consent_user_agent": user_agent,
    }
    if used["lang"]:
        values["lang"] = used["lang"]
    if used["name"] and not row["name"]:  # a form never renames someone already known
        values["name"] = used["name"]
    return values


def clean_name(typed: str) -> str | None:
    """A display name from a form: printable, one line, at most 100 characters."""
    name = " ".join("".join(c for c in typed if c.isprintable() or c.isspace()).split())
    return name[:NAME_LIMIT] or None


def _member(conn: Connection, row: RowMapping) -> Member:
    status = Status(row["status"])
    may_return = status is Status.UNSUBSCRIBED and _last_unsubscribed_by(conn, row["id"]) == ACTOR
    return Member(row["id"], status, row["lang"], may_return)


def _last_unsubscribed_by(conn: Connection, subscriber_id: int) -> str | None:
    return conn.execute(
        select(history.c.actor)
        .where(history.c.subscriber_id == subscriber_id, history.c.to_status == Status.UNSUBSCRIBED)
        .order_by(history.c.id.desc())
        .limit(1)
    ).scalar()


def _insert_pending(conn: Connection, request: SignupRequest, moment: dt.datetime) -> int:
    new_id = insert_subscriber(
        conn,
        {
            "email": request.address.email,
            "email_key": request.address.key,
            "name": request.name,
            "lang": request.lang,
            "status": Status.PENDING,
            "source": request.form,
            "created_at": moment,
            "status_changed_at": moment,
            "attributes": {},
        },
    )
    record_history(conn, [(new_id, None, Status.PENDING, ACTOR, "signed up", moment)])
    return new_id


def _row(conn: Connection, subscriber_id: int) -> RowMapping | None:
    return (
        conn.execute(select(subscribers).where(subscribers.c.id == subscriber_id))
        .mappings()
        .first()
    )
