"""One running send per campaign: an OS file lock beside the SQLite file.

The kernel drops the lock when its process dies, even by SIGKILL, so a crashed send never
blocks the next one, while two live sends of the same campaign cannot both claim batches or
relabel each other's batch in flight as uncertain.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from newsletter.errors import NewsletterError

__all__ = ["campaign_lock"]


@contextmanager
def campaign_lock(folder: Path, campaign_id: str) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".send-{campaign_id}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise NewsletterError(
                f"another `newsletter send` of {campaign_id} is running; wait for it to finish"
            ) from None
        yield
    finally:
        os.close(fd)
