"""The subscriber store: every read and write of the list goes through here.

Every status change writes a status_history row in the same transaction, so an unsubscribe
can be proven and is never silently undone. Erasure deletes the personal data and leaves a
hash in suppressions that no import can get past.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Engine,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, RowMapping

from newsletter.addresses import Address, normalize, suppression_hash
from newsletter.audience.models import HistoryEntry, Status, Subscriber
from newsletter.audience.rows import RowProblem, check_row
from newsletter.db.bulk import bulk_insert, chunked
from newsletter.db.engine import WRITE, open_engine
from newsletter.db.schema import (
    UTCDateTime,
    confirmations,
    history,
    subscribers,
    suppressions,
    tags,
)
from newsletter.errors import NewsletterError

__all__ = [
    "Consent",
    "Filters",
    "Stats",
    "Store",
    "SubscriberError",
    "apply_status",
    "apply_statuses",
    "filtered",
    "now",
    "spellings",
]


class SubscriberError(NewsletterError):
    """A subscriber command that cannot be done as asked."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Consent:
    """Evidence that a person agreed to receive the newsletter."""

    method: str
    at: dt.datetime | None = None
    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Filters:
    """Who a list, an export or a send is for. Tags compare without case; a reader with any of
    ``tags`` matches, or with all of them when ``all_tags``."""

    status: Status | None = None
    tags: tuple[str, ...] = ()
    lang: str | None = None
    search: str | None = None
    all_tags: bool = False

    def __post_init__(self) -> None:
        # one order and one spelling per tag, so equal audiences compare equal
        unique = {t.strip().lower(): t.strip() for t in reversed(self.tags) if t.strip()}
        object.__setattr__(self, "tags", tuple(unique[k] for k in sorted(unique)))

    def subscribed(self) -> Filters:
        """The same filters over subscribed readers only: a send's audience."""
        return dataclasses.replace(self, status=Status.SUBSCRIBED)

    def as_json(self) -> dict[str, Any]:
        """How a campaign stores its filters."""
        return {"tags": list(self.tags), "all_tags": self.all_tags, "lang": self.lang}

    @classmethod
    def of_json(cls, data: Mapping[str, Any]) -> Filters:
        """A campaign's stored filters; campaigns from before v6 stored one "tag"."""
        tags = data.get("tags") or ([data["tag"]] if data.get("tag") else [])
        return cls(tags=tuple(tags), lang=data.get("lang"), all_tags=bool(data.get("all_tags")))


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
            check_row(name=name, lang=lang, tags=tuple(tag_names))
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
            check_row(name=name, lang=lang, tags=tuple(add_tags))
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


# Connection-level operations, shared by the store and the importer (one transaction each).


def rows_by_keys(conn: Connection, keys: Sequence[str]) -> dict[str, RowMapping]:
    found: dict[str, RowMapping] = {}
    for chunk in chunked(keys):
        for row in conn.execute(
            select(subscribers).where(subscribers.c.email_key.in_(chunk))
        ).mappings():
            found[row["email_key"]] = row
    return found


def ids_by_keys(conn: Connection, keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in chunked(keys):
        query = select(subscribers.c.email_key, subscribers.c.id).where(
            subscribers.c.email_key.in_(chunk)
        )
        found.update((key, subscriber_id) for key, subscriber_id in conn.execute(query))
    return found


def suppressed_keys(conn: Connection, keys: Sequence[str]) -> set[str]:
    by_hash = {suppression_hash(key): key for key in keys}
    hashes = list(by_hash)
    found: set[str] = set()
    for chunk in chunked(hashes):
        for (email_hash,) in conn.execute(
            select(suppressions.c.email_hash).where(suppressions.c.email_hash.in_(chunk))
        ):
            found.add(by_hash[email_hash])
    return found


def is_suppressed(conn: Connection, key: str) -> bool:
    return bool(suppressed_keys(conn, [key]))


def insert_subscriber(conn: Connection, row: Mapping[str, Any]) -> int:
    inserted = conn.execute(insert(subscribers).values(**row)).inserted_primary_key
    assert inserted is not None  # an INSERT of one row always has its key
    return int(inserted[0])


def update_subscriber(conn: Connection, subscriber_id: int, values: Mapping[str, Any]) -> None:
    conn.execute(update(subscribers).where(subscribers.c.id == subscriber_id).values(**values))


def set_tags(
    conn: Connection,
    subscriber_id: int,
    tag_names: Iterable[str],
    *,
    replace: bool = False,
    spelled: dict[str, str] | None = None,
) -> None:
    """Give a reader these tags, each in the list's spelling; ``spelled`` caches
    :func:`spellings` across many readers."""
    if replace:
        conn.execute(delete(tags).where(tags.c.subscriber_id == subscriber_id))
    existing = {
        r[0].lower()
        for r in conn.execute(select(tags.c.tag).where(tags.c.subscriber_id == subscriber_id))
    }
    wanted = {t.strip().lower(): t.strip() for t in reversed(list(tag_names)) if t and t.strip()}
    new = {key: name for key, name in wanted.items() if key not in existing}
    if not new:
        return
    spelled = spellings(conn) if spelled is None else spelled
    names = sorted(spelled.setdefault(key, name) for key, name in new.items())
    conn.execute(insert(tags), [{"subscriber_id": subscriber_id, "tag": t} for t in names])


def _same_tag(subscriber_id: int, tag_name: str) -> Any:
    return and_(
        tags.c.subscriber_id == subscriber_id, func.lower(tags.c.tag) == tag_name.strip().lower()
    )


def look_alike(tag_names: Iterable[str]) -> list[list[str]]:
    """Groups of tags equal but for case, spaces and punctuation: likely one segment typed twice."""
    groups: dict[str, list[str]] = {}
    for name in sorted(tag_names):
        groups.setdefault("".join(c for c in name.lower() if c.isalnum()), []).append(name)
    return [names for names in groups.values() if len(names) > 1]


def spellings(conn: Connection) -> dict[str, str]:
    """Each tag's spelling in the list, by its lower case: "health" and "Health" are one tag,
    and a new tag takes the spelling already in use (the first in sort order, if several)."""
    found: dict[str, str] = {}
    for (tag,) in conn.execute(select(tags.c.tag).distinct().order_by(tags.c.tag)):
        found.setdefault(tag.lower(), tag)
    return found


def record_history(
    conn: Connection,
    entries: Sequence[tuple[int, Status | None, Status, str, str | None, dt.datetime]],
) -> None:
    rows = [
        {
            "subscriber_id": i,
            "from_status": f,
            "to_status": t,
            "actor": a,
            "reason": r,
            "changed_at": at,
        }
        for i, f, t, a, r, at in entries
    ]
    bulk_insert(conn, history, rows)


def apply_status(
    conn: Connection,
    row: Mapping[Any, Any],
    status: Status,
    *,
    actor: str,
    reason: str | None,
    at: dt.datetime,
) -> None:
    """Move one subscriber to a status, with its timestamps and a history row."""
    apply_statuses(conn, [(row["id"], Status(row["status"]), status, actor, reason, at)])


def apply_statuses(
    conn: Connection,
    moves: Sequence[tuple[int, Status | None, Status, str, str | None, dt.datetime]],
) -> None:
    """Many moves, in order, in two statements (history rows have the same shape).

    confirmed_at is set on a first subscribe, unsubscribed_at on every unsubscribe; the
    statements are module constants, so SQLAlchemy compiles them once per process.
    """
    if not moves:
        return
    conn.execute(
        _MOVE,
        [
            {
                "b_id": subscriber_id,
                "b_status": Status(status).value,
                "b_at": at,
                "b_confirmed": at if status == Status.SUBSCRIBED else None,
                "b_unsubscribed": at if status == Status.UNSUBSCRIBED else None,
            }
            for subscriber_id, _, status, _, _, at in moves
        ],
    )
    record_history(conn, moves)


_MOVE = (
    update(subscribers)
    .where(subscribers.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        status_changed_at=bindparam("b_at", type_=UTCDateTime),
        confirmed_at=func.coalesce(
            subscribers.c.confirmed_at, bindparam("b_confirmed", type_=UTCDateTime)
        ),
        unsubscribed_at=func.coalesce(
            bindparam("b_unsubscribed", type_=UTCDateTime), subscribers.c.unsubscribed_at
        ),
    )
)


def suppress(conn: Connection, keys: Iterable[str], *, reason: str, at: dt.datetime) -> None:
    for key in keys:
        email_hash = suppression_hash(key)
        if not conn.execute(
            select(suppressions.c.email_hash).where(suppressions.c.email_hash == email_hash)
        ).first():
            conn.execute(
                insert(suppressions).values(email_hash=email_hash, reason=reason, created_at=at)
            )


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


def _row_by_key(conn: Connection, key: str) -> RowMapping | None:
    return (
        conn.execute(select(subscribers).where(subscribers.c.email_key == key)).mappings().first()
    )


def filtered(query: Select[Any], filters: Filters) -> Select[Any]:
    if filters.status:
        query = query.where(subscribers.c.status == filters.status)
    if filters.lang:
        query = query.where(subscribers.c.lang == filters.lang)
    if filters.tags:
        tagged = [
            subscribers.c.id.in_(
                select(tags.c.subscriber_id).where(func.lower(tags.c.tag) == tag.lower())
            )
            for tag in filters.tags
        ]
        query = query.where(and_(*tagged) if filters.all_tags else or_(*tagged))
    if filters.search:
        term = f"%{filters.search.lower()}%"
        query = query.where(
            or_(subscribers.c.email_key.like(term), func.lower(subscribers.c.name).like(term))
        )
    return query


def _with_tags(conn: Connection, rows: list[RowMapping]) -> list[Subscriber]:
    ids = [r["id"] for r in rows]
    by_id: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for subscriber_id, tag_name in conn.execute(
            select(tags.c.subscriber_id, tags.c.tag)
            .where(tags.c.subscriber_id.in_(ids))
            .order_by(tags.c.tag)
        ):
            by_id[subscriber_id].append(tag_name)
    return [_subscriber(r, by_id[r["id"]]) for r in rows]


def _subscriber(row: RowMapping, tag_names: list[str]) -> Subscriber:
    values = {k: v for k, v in row.items() if k != "email_key"}
    values["status"] = Status(values["status"])
    values["attributes"] = dict(values["attributes"] or {})
    return Subscriber(tags=tuple(tag_names), **values)
