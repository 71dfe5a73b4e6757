"""The subscriber store: every read and write of the list goes through here.

Every status change writes a status_history row in the same transaction, so an unsubscribe
can be proven and is never silently undone. Erasure deletes the personal data and leaves a
hash in suppressions that no import can get past.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Engine,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.engine import Connection, RowMapping

from newsletter.addresses import Address, normalize
from newsletter.audience.models import Filters, HistoryEntry, Status, Subscriber
from newsletter.audience.queries import (
    _row_by_key,
    _same_tag,
    _with_tags,
    apply_status,
    filtered,
    insert_subscriber,
    is_suppressed,
    look_alike,
    now,
    record_history,
    set_tags,
    spellings,
    suppress,
)
from newsletter.audience.rows import RowProblem, check_row
from newsletter.db.engine import WRITE, open_engine
from newsletter.db.schema import (
    confirmations,
    history,
    subscribers,
    tags,
)
from newsletter.errors import NewsletterError

__all__ = ["Consent", "Stats", "Store", "SubscriberError"]


class SubscriberError(NewsletterError):
    """A subscriber command that cannot be done as asked."""


@dataclass(frozen=True)
class Consent:
    """Evidence that a person agreed to receive the newsletter."""

    method: str
    at: dt.datetime | None = None
    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Stats:
    total: int
    by_status: dict[str, int]
    by_tag: dict[str, int]
    by_lang: dict[str, int]
    look_alike: list[list[str]] = dataclasses.field(default_factory=list)
    """Tags that differ only in spaces or punctuation ("health-news", "health news"): typos?"""


class Store:
    """One subscriber database (SQLite file or PostgreSQL URL)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Store:
        return cls(open_engine(url))

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def write(self, *, commit: bool = True) -> Iterator[Connection]:
        """One write transaction: all of it happens, or none of it (commit=False: a rehearsal)."""
        with self.engine.connect().execution_options(**WRITE) as conn:
            transaction = conn.begin()
            try:
                yield conn
            except BaseException:
                transaction.rollback()
                raise
            if commit:
                transaction.commit()
            else:
                transaction.rollback()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    # reads

    def get(self, email: str) -> Subscriber | None:
        key = _address(email).key
        with self.read() as conn:
            row = (
                conn.execute(select(subscribers).where(subscribers.c.email_key == key))
                .mappings()
                .first()
            )
            return None if row is None else _with_tags(conn, [row])[0]

    def find(
        self, filters: Filters = Filters(), *, limit: int | None = None, offset: int = 0
    ) -> list[Subscriber]:
        query = filtered(select(subscribers), filters).order_by(subscribers.c.id).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self.read() as conn:
            return _with_tags(conn, list(conn.execute(query).mappings()))

    def count(self, filters: Filters = Filters()) -> int:
        with self.read() as conn:
            return int(
                conn.execute(
                    filtered(select(func.count()).select_from(subscribers), filters)
                ).scalar_one()
            )

    def iter_all(
        self, filters: Filters = Filters(), batch: int = 1000, *, excluding: Any = None
    ) -> Iterator[Subscriber]:
        """Every matching subscriber in id order, a batch at a time (memory stays flat).

        ``excluding`` is a subquery of subscriber ids to leave out.
        """
        last = 0
        while True:
            query = filtered(select(subscribers), filters).where(subscribers.c.id > last)
            if excluding is not None:
                query = query.where(subscribers.c.id.not_in(excluding))
            with self.read() as conn:
                rows = list(conn.execute(query.order_by(subscribers.c.id).limit(batch)).mappings())
                page = _with_tags(conn, rows)
            if not page:
                return
            yield from page
            last = page[-1].id

    def history(self, email: str) -> list[HistoryEntry]:
        subscriber = self._require(email)
        with self.read() as conn:
            rows = conn.execute(
                select(history)
                .where(history.c.subscriber_id == subscriber.id)
                .order_by(history.c.id)
            ).mappings()
            return [
                HistoryEntry(
                    r["changed_at"],
                    Status(r["from_status"]) if r["from_status"] else None,
                    Status(r["to_status"]),
                    r["actor"],
                    r["reason"],
                )
                for r in rows
            ]

    def stats(self) -> Stats:
        with self.read() as conn:
            by_status: dict[str, int] = dict(
                conn.execute(
                    select(subscribers.c.status, func.count()).group_by(subscribers.c.status)
                ).all()
            )
            by_lang: dict[str, int] = dict(
                conn.execute(
                    select(func.coalesce(subscribers.c.lang, "-"), func.count()).group_by(
                        subscribers.c.lang
                    )
                ).all()
            )
            folded = func.lower(tags.c.tag)
            spelled = spellings(conn)
            by_tag = {
                spelled.get(key, key): count
                for key, count in conn.execute(
                    select(folded, func.count(tags.c.subscriber_id.distinct())).group_by(folded)
                )
            }
        return Stats(sum(by_status.values()), by_status, by_tag, by_lang, look_alike(by_tag))

    # writes

    def add(
        self,
        email: str,
        *,
        name: str | None = None,
        lang: str | None = None,
        tag_names: Sequence[str] = (),
        consent: Consent | None = None,
        source: str = "cli",
        actor: str = "cli",
    ) -> Subscriber:
        """A new subscriber: subscribed with consent evidence, otherwise pending."""
        address = _address(email, new=True)
        try:
            lang = check_row(name=name, lang=lang, tags=tuple(tag_names)).lang
        except RowProblem as exc:
            raise SubscriberError(f"{address.email} cannot be added: {exc}") from None
        status = Status.SUBSCRIBED if consent else Status.PENDING
        moment = now()
        with self.write() as conn:
            if conn.execute(
                select(subscribers.c.id).where(subscribers.c.email_key == address.key)
            ).first():
                raise SubscriberError(
                    f"{address.email} is already on the list; see `newsletter subscribers show`"
                )
            if is_suppressed(conn, address.key):
                raise SubscriberError(
                    f"{address.email} was erased from the list and cannot be added again"
                )
            new_id = insert_subscriber(
                conn,
                _new_row(address, name, lang, status, source, moment, consent),
            )
            set_tags(conn, new_id, tag_names)
            record_history(conn, [(new_id, None, status, actor, "added", moment)])
        return self._require(address.email)

    def unsubscribe(
        self, email: str, *, actor: str = "cli", reason: str | None = None
    ) -> Subscriber:
        """Idempotent: unsubscribing twice changes nothing the second time."""
        return self.change_status(email, Status.UNSUBSCRIBED, actor=actor, reason=reason)

    def resubscribe(self, email: str, *, reason: str | None, actor: str = "cli") -> Subscriber:
        """Subscribing someone who left (or never confirmed) needs a reason, kept in the history."""
        current = self._require(email)
        if current.status is not Status.SUBSCRIBED and not (reason and reason.strip()):
            raise SubscriberError(
                f"{current.email} is {current.status}; resubscribing needs --reason (for example the "
                "date and way they asked to come back)"
            )
        return self.change_status(email, Status.SUBSCRIBED, actor=actor, reason=reason)

    def change_status(
        self, email: str, status: Status, *, actor: str, reason: str | None
    ) -> Subscriber:
        address = _address(email)
        with self.write() as conn:
            row = _row_by_key(conn, address.key)
            if row is None:
                raise SubscriberError(f"{address.email} is not on the list")
            if row["status"] != status:
                apply_status(conn, row, status, actor=actor, reason=reason, at=now())
        return self._require(address.email)

    def tag(self, emails: Iterable[str], tag_name: str, *, remove: bool = False) -> int:
        """Add (or remove) a tag; returns how many subscribers changed."""
        try:
            check_row(tags=(tag_name,))
        except RowProblem as exc:
            raise SubscriberError(f"tag {tag_name[:40]!r}: {exc}") from None
        changed = 0
        with self.write() as conn:
            spelled = spellings(conn)
            for email in emails:
                row = _row_by_key(conn, _address(email).key)
                if row is None:
                    raise SubscriberError(f"{email} is not on the list; nothing was tagged")
                same = _same_tag(row["id"], tag_name)
                present = conn.execute(select(tags.c.tag).where(same)).first()
                if remove and present:
                    conn.execute(delete(tags).where(same))
                    changed += 1
                elif not remove and not present:
                    set_tags(conn, row["id"], [tag_name], spelled=spelled)
                    changed += 1
        return changed

    def update(
        self,
        email: str,
        *,
        name: str | None = None,
        lang: str | None = None,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        actor: str = "cli",
    ) -> tuple[Subscriber, list[str]]:
        """Change a reader's name, language or tags; the history says what changed, and from what."""
        try:
            lang = check_row(name=name, lang=lang, tags=tuple(add_tags)).lang
        except RowProblem as exc:
            raise SubscriberError(f"{_address(email).email}: {exc}") from None
        moment = now()
        with self.write() as conn:
            row = _row_by_key(conn, _address(email).key)
            if row is None:
                raise SubscriberError(f"{_address(email).email} is not on the list")
            changes = _changes(row, name, lang)
            values = {field: new for field, (_, new) in changes.items()}
            if values:
                conn.execute(
                    update(subscribers).where(subscribers.c.id == row["id"]).values(**values)
                )
            held = {
                t.lower(): t
                for t in conn.execute(
                    select(tags.c.tag).where(tags.c.subscriber_id == row["id"])
                ).scalars()
            }
            added = [t for t in dict.fromkeys(add_tags) if t.lower() not in held]
            removed = [held[t.lower()] for t in dict.fromkeys(remove_tags) if t.lower() in held]
            set_tags(conn, row["id"], added)
            for name in removed:
                conn.execute(delete(tags).where(_same_tag(row["id"], name)))
            said = [f"{field} {new!r} (was {old!r})" for field, (old, new) in changes.items()]
            said += [f"tag +{t}" for t in added] + [f"tag -{t}" for t in removed]
            if said:
                status = Status(row["status"])
                record_history(
                    conn, [(row["id"], status, status, actor, "set " + ", ".join(said), moment)]
                )
        return self._require(email), said

    def erase(self, email: str, *, actor: str = "cli") -> None:
        """GDPR erasure: delete the personal data, keep a hash so no import brings it back."""
        address = _address(email)
        moment = now()
        with self.write() as conn:
            row = _row_by_key(conn, address.key)
            if row is None:
                raise SubscriberError(f"{address.email} is not on the list")
            record_history(
                conn, [(row["id"], Status(row["status"]), Status.BLOCKED, actor, "erased", moment)]
            )
            conn.execute(delete(tags).where(tags.c.subscriber_id == row["id"]))
            conn.execute(delete(confirmations).where(confirmations.c.subscriber_id == row["id"]))
            conn.execute(delete(subscribers).where(subscribers.c.id == row["id"]))
            suppress(conn, [address.key], reason="erased", at=moment)
        from newsletter.audience.backup import log_erasure  # the log outlives older backups

        log_erasure(str(self.engine.url), address.key, moment)

    def _require(self, email: str) -> Subscriber:
        subscriber = self.get(email)
        if subscriber is None:
            raise SubscriberError(f"{_address(email).email} is not on the list")
        return subscriber


def _new_row(
    address: Address,
    name: str | None,
    lang: str | None,
    status: Status,
    source: str,
    moment: dt.datetime,
    consent: Consent | None,
) -> dict[str, Any]:
    return {
        "email": address.email,
        "email_key": address.key,
        "name": name,
        "lang": lang,
        "status": status,
        "source": source,
        "created_at": moment,
        "status_changed_at": moment,
        "confirmed_at": moment if status is Status.SUBSCRIBED else None,
        "consent_at": (consent.at or moment) if consent else None,
        "consent_method": consent.method if consent else None,
        "consent_ip": consent.ip if consent else None,
        "consent_user_agent": consent.user_agent if consent else None,
        "attributes": {},
    }


def _changes(
    row: RowMapping, name: str | None, lang: str | None
) -> dict[str, tuple[str | None, str]]:
    """field -> (was, now) for the fields given that differ from the row."""
    wanted = {"name": name, "lang": lang}
    return {f: (row[f], v) for f, v in wanted.items() if v is not None and v != row[f]}


def _address(email: str, *, new: bool = False) -> Address:
    """The address to store (``new``) or to look up: rows from before may have a Unicode local part."""
    try:
        return normalize(email, unicode_local=not new)
    except ValueError as exc:
        raise SubscriberError(f"{email!r} is not a valid address: {exc}") from None
