"""Backups of the whole store, and restores that never bring back who left or was erased.

A backup is the database as a whole (subscribers, the status history, the hashed suppression
list of erased people, issues, campaigns and the delivery ledger), copied consistently while
other processes use it: SQLite's online backup API, or `pg_dump` for PostgreSQL (with a
small JSON manifest beside the dump). An export CSV is not a backup: it has no history, no
suppressions and no journal.

A restore checks the backup's schema (a newer newsletter's is refused), refuses to replace a
store with changes after the backup unless forced, and keeps a copy of what it replaces. Then
it carries over what must survive any restore: every erasure and every unsubscribe, bounce or
complaint since the backup, read from the store it replaces and from the erasure log kept
beside an SQLite database (or given with ``suppressions``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, insert, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import make_url

from newsletter.addresses import suppression_hash
from newsletter.audience.models import SUPPRESSED, Status
from newsletter.audience.queries import apply_status, now, record_history
from newsletter.audience.store import Store
from newsletter.db.engine import schema_version
from newsletter.db.migrations import MIGRATIONS
from newsletter.db.schema import (
    campaign_recipients,
    campaigns,
    confirmations,
    history,
    subscribers,
    suppressions,
    tags,
)
from newsletter.errors import NewsletterError, one_line

__all__ = ["ERASURE_LOG", "Manifest", "Restored", "make_backup", "read_erasure_log", "restore"]

ERASURE_LOG = "erasures.log"
"""Beside an SQLite database: one line per erasure (hash, time), so a restore of an older
backup can erase those people again. Hashes only: nothing in it names anyone."""


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, read without restoring it."""

    schema: int
    last_change: dt.datetime | None
    subscribers: int


@dataclass
class Restored:
    manifest: Manifest
    replaced_copy: Path | None = None
    """Where the store it replaced was kept, when there was one."""
    erased_again: int = 0
    left_again: int = 0
    sources: list[str] = field(default_factory=list)


def make_backup(url: str, target: Path) -> Manifest:
    """Copy the store at ``url`` into ``target`` (written whole, or not at all)."""
    target = target.resolve()
    if target.is_dir():
        raise NewsletterError(f"{target} is a folder; give the backup file's name")
    target.parent.mkdir(parents=True, exist_ok=True)
    if _is_postgresql(url):
        return _pg_backup(url, target)
    source = _sqlite_path(url)
    store = Store.open(url)  # migrates: a backup is always of the current schema
    store.close()
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        with sqlite3.connect(source) as live, sqlite3.connect(temp) as copy:
            live.backup(copy)  # consistent while others write
        copy_manifest = read_manifest(Path(temp))
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return copy_manifest


def read_manifest(backup: Path) -> Manifest:
    """The schema version, last change and size of a backup file, or one line why not."""
    sidecar = _sidecar(backup)
    if sidecar.is_file():
        data = json.loads(sidecar.read_text("utf-8"))
        last = data.get("last_change")
        return Manifest(
            data["schema"], dt.datetime.fromisoformat(last) if last else None, data["subscribers"]
        )
    if not backup.is_file():
        raise NewsletterError("no such backup file", path=backup)
    engine = open_engine_readonly(backup)
    try:
        with engine.connect() as conn:
            return _manifest(conn)
    finally:
        engine.dispose()


def restore(
    url: str, source: Path, *, force: bool = False, suppressions_log: Path | None = None
) -> Restored:
    """Replace the store at ``url`` with the backup, carrying over erasures and leavers."""
    manifest = read_manifest(source)
    if manifest.schema > len(MIGRATIONS):
        raise NewsletterError(
            f"the backup is at schema version {manifest.schema}, newer than this newsletter "
            f"({len(MIGRATIONS)}); upgrade newsletter first",
            path=source,
        )
    current = Store.open(url) if _exists(url) else None
    report = Restored(manifest)
    carried = _Leavers()
    if current is not None:
        try:
            carried = _refuse_newer_or_collect(current, manifest, force)
        finally:
            current.close()
        report.replaced_copy = _keep_copy(url)
        report.sources.append("the list it replaced")
    log = suppressions_log or _erasure_log(url)
    if log is not None and log.is_file():
        carried.erased |= read_erasure_log(log)
        report.sources.append(str(log))
    _put_in_place(url, source)
    restored = Store.open(url)  # migrates an older backup forward
    try:
        report.erased_again, report.left_again = _carry_over(restored, carried)
    finally:
        restored.close()
    return report


def log_erasure(url: str, key: str, moment: dt.datetime) -> None:
    """Append one erasure to the log beside an SQLite database (hash and time only)."""
    path = _erasure_log(url)
    if path is None:
        return
    with path.open("a", encoding="ascii") as handle:
        handle.write(f"{suppression_hash(key)}\t{moment.isoformat()}\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_erasure_log(path: Path) -> set[str]:
    hashes = set()
    for line in path.read_text("ascii", errors="replace").splitlines():
        digest = line.split("\t", 1)[0].strip()
        if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest):
            hashes.add(digest)
    return hashes


@dataclass
class _Leavers:
    erased: set[str] = field(default_factory=set)
    left: dict[str, tuple[Status, str]] = field(default_factory=dict)
    """email_key -> the leaving status and its reason, for changes after the backup."""


def _refuse_newer_or_collect(current: Store, manifest: Manifest, force: bool) -> _Leavers:
    with current.read() as conn:
        mine = _manifest(conn)
        if (
            mine.last_change is not None
            and (manifest.last_change is None or mine.last_change > manifest.last_change)
            and not force
        ):
            raise NewsletterError(
                f"the list has changes after this backup (its last at {mine.last_change:%Y-%m-%d %H:%M} "
                f"UTC, the backup's at {_when(manifest.last_change)}); pass --force to replace it "
                "(erasures and unsubscribes since are carried over)"
            )
        since = manifest.last_change or dt.datetime.min.replace(tzinfo=dt.UTC)
        erased = set(conn.execute(select(suppressions.c.email_hash)).scalars())
        latest = (
            select(history.c.subscriber_id, func.max(history.c.id).label("last"))
            .group_by(history.c.subscriber_id)
            .subquery()
        )
        leaving = conn.execute(
            select(subscribers.c.email_key, history.c.to_status, history.c.reason)
            .join(latest, latest.c.last == history.c.id)
            .join(subscribers, subscribers.c.id == history.c.subscriber_id)
            .where(history.c.changed_at > since, history.c.to_status.in_(list(SUPPRESSED)))
        ).all()
    return _Leavers(
        erased, {key: (Status(status), reason or "") for key, status, reason in leaving}
    )


def _carry_over(store: Store, carried: _Leavers) -> tuple[int, int]:
    """Erase again who was erased, and unsubscribe again who left, since the backup."""
    moment = now()
    erased = left = 0
    with store.write() as conn:
        known = set(conn.execute(select(suppressions.c.email_hash)).scalars())
        missing = carried.erased - known
        if missing:
            for subscriber_id, key, status in conn.execute(
                select(subscribers.c.id, subscribers.c.email_key, subscribers.c.status)
            ).all():
                if suppression_hash(key) in missing:
                    _erase(conn, subscriber_id, Status(status), moment)
                    erased += 1
            conn.execute(
                insert(suppressions),
                [
                    {
                        "email_hash": h,
                        "reason": "erased (re-applied after a restore)",
                        "created_at": moment,
                    }
                    for h in sorted(missing)
                ],
            )
        for key, (status, reason) in carried.left.items():
            row = (
                conn.execute(select(subscribers).where(subscribers.c.email_key == key))
                .mappings()
                .first()
            )
            if row is not None and Status(row["status"]) not in SUPPRESSED:
                note = f"re-applied after a restore: {reason}"
                apply_status(conn, dict(row), status, actor="restore", reason=note, at=moment)
                left += 1
    return erased, left


def _erase(conn: Connection, subscriber_id: int, status: Status, moment: dt.datetime) -> None:
    record_history(
        conn,
        [
            (
                subscriber_id,
                status,
                Status.BLOCKED,
                "restore",
                "erased again after a restore",
                moment,
            )
        ],
    )
    conn.execute(delete(tags).where(tags.c.subscriber_id == subscriber_id))
    conn.execute(delete(confirmations).where(confirmations.c.subscriber_id == subscriber_id))
    conn.execute(delete(subscribers).where(subscribers.c.id == subscriber_id))


def _manifest(conn: Connection) -> Manifest:
    try:
        version = schema_version(conn)
    except Exception as exc:  # not a newsletter database at all
        raise NewsletterError(f"this is not a newsletter backup ({one_line(str(exc))})") from None
    moments = union_all(
        select(func.max(history.c.changed_at).label("at")),
        select(func.max(campaigns.c.updated_at)),
        select(func.max(campaign_recipients.c.updated_at)),
        select(func.max(suppressions.c.created_at)),
    ).subquery()
    last = conn.execute(select(func.max(moments.c.at))).scalar()
    count = conn.execute(select(func.count()).select_from(subscribers)).scalar_one()
    when = dt.datetime.fromisoformat(last) if isinstance(last, str) else last
    return Manifest(version, when, int(count))


def open_engine_readonly(path: Path):  # type: ignore[no-untyped-def]
    """The backup file opened without migrating or writing it."""
    from sqlalchemy import create_engine

    return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")


def _put_in_place(url: str, source: Path) -> None:
    if _is_postgresql(url):
        _pg_restore(url, source)
        return
    target = _sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as backup, sqlite3.connect(target) as live:
        backup.backup(live)  # page by page into the live file: open connections see it


def _keep_copy(url: str) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    if _is_postgresql(url):
        copy = Path.cwd() / f"newsletter-before-restore-{stamp}.dump"
    else:
        live = _sqlite_path(url)
        copy = live.with_name(f"{live.stem}-before-restore-{stamp}{live.suffix}")
    make_backup(url, copy)
    return copy


def _exists(url: str) -> bool:
    return _is_postgresql(url) or _sqlite_path(url).is_file()


def _erasure_log(url: str) -> Path | None:
    return None if _is_postgresql(url) else _sqlite_path(url).with_name(ERASURE_LOG)


def _sqlite_path(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        raise NewsletterError(f"backups need an SQLite file or PostgreSQL, not {url!r}")
    return Path(parsed.database).resolve()


def _is_postgresql(url: str) -> bool:
    return url.startswith(("postgresql", "postgres:"))


def _when(moment: dt.datetime | None) -> str:
    return "never" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def _sidecar(backup: Path) -> Path:
    return backup.with_name(backup.name + ".json")


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise NewsletterError(
            f"{name} is not installed; PostgreSQL backups need it (apt-get install postgresql-client)"
        )
    return found


def _pg_target(url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq tools take it, without its password (PGPASSWORD carries that, so it
    never shows in the process list), and the environment to run them with."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1)).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(password=None).render_as_string(hide_password=False), env


def _pg_backup(url: str, target: Path) -> Manifest:
    store = Store.open(url)
    try:
        with store.read() as conn:
            manifest = _manifest(conn)
    finally:
        store.close()
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        database, env = _pg_target(url)
        _run(
            [_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={temp}", database], env
        )
        sidecar = _sidecar(target)
        sidecar.write_text(
            json.dumps(
                {
                    "schema": manifest.schema,
                    "last_change": manifest.last_change.isoformat()
                    if manifest.last_change
                    else None,
                    "subscribers": manifest.subscribers,
                }
            ),
            "utf-8",
        )
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return manifest


def _pg_restore(url: str, source: Path) -> None:
    database, env = _pg_target(url)
    _run(
        [
            _pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
            f"--dbname={database}", str(source),
        ],
        env,
    )  # fmt: skip


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode:
        tool = Path(command[0]).name
        raise NewsletterError(f"{tool} failed: {one_line(result.stderr)[:300]}")
