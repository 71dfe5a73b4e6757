"""One live send per campaign: a kernel file lock on SQLite, an advisory lock on PostgreSQL.

Both are dropped when their holder dies, even by SIGKILL (the kernel closes the file; the
server ends the session of a dead connection), so a crashed send never blocks the next one,
while two live sends of one campaign cannot both claim batches or relabel each other's batch
in flight as uncertain. The file lock sits beside the SQLite file, so it separates processes
on one machine, which is all that can share that file; PostgreSQL's lock lives in the server
and holds across hosts.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine.url import make_url

from newsletter.audience.store import Store
from newsletter.errors import NewsletterError

__all__ = ["Busy", "campaign_lock"]


class Busy(NewsletterError):
    """Another live process is sending this campaign."""


@contextmanager
def campaign_lock(store: Store, campaign_id: str) -> Iterator[None]:
    busy = Busy(
        f"another process is sending campaign {campaign_id} (`newsletter send`, `campaigns "
        "resume`, `run-due` or a worker); wait for it to finish"
    )
    url = make_url(str(store.engine.url))
    if url.get_backend_name() == "postgresql":
        with _advisory_lock(store, campaign_id, busy):
            yield
        return
    folder = Path(url.database).parent if url.database not in (None, "", ":memory:") else Path()
    with _file_lock(folder / f".send-{campaign_id}.lock", busy):
        yield


@contextmanager
def _file_lock(path: Path, busy: Busy) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        yield
    finally:
        os.close(fd)


@contextmanager
def _advisory_lock(store: Store, campaign_id: str, busy: Busy) -> Iterator[None]:
    """A session lock on a connection of its own, held for the whole send."""
    digest = hashlib.sha256(f"newsletter.send:{campaign_id}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    with store.engine.connect() as conn:
        if not conn.execute(select(func.pg_try_advisory_lock(key))).scalar_one():
            raise busy
        conn.commit()  # the session lock outlives transactions; nothing else is open here
        try:
            yield
        finally:
            conn.execute(select(func.pg_advisory_unlock(key)))
            conn.commit()
