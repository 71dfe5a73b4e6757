"""All database writes of the web app, one at a time, with concurrent one-clicks grouped.

SQLite has one writer. Threads that find it busy sleep in SQLite's busy handler (up to
100 ms a time) however short the write they wait for, so under load requests wait on each
other far longer than the writes take. Here writes queue on an asyncio lock instead, and
one-click unsubscribes that arrive while a write runs share the next transaction (group
commit): a burst of them costs a few commits, not one each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from newsletter.audience import selfservice
from newsletter.audience.selfservice import Leaving, Member
from newsletter.audience.store import Store

__all__ = ["Writer"]

T = TypeVar("T")
GROUP_LIMIT = 500
"""Unsubscribes per shared transaction; keeps any one transaction short."""

log = logging.getLogger("newsletter.web")


class Writer:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.transactions = 0
        """Group transactions run so far (the tests watch grouping through it)."""
        self._gate = asyncio.Lock()
        self._waiting: list[tuple[Leaving, asyncio.Future[Member | None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def run(self, write: Callable[[], T]) -> T:
        """Run one write transaction in the thread pool when no other write is running."""
        async with self._gate:
            return await run_in_threadpool(write)

    async def unsubscribe(self, leaving: Leaving) -> Member | None:
        """Unsubscribe, sharing a transaction with whoever else is leaving right now."""
        future: asyncio.Future[Member | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((leaving, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        """Write waiting groups until none is left; every waiter gets its answer or the error."""
        while self._waiting:
            async with self._gate:
                group = self._waiting[:GROUP_LIMIT]
                del self._waiting[:GROUP_LIMIT]
                requests = [leaving for leaving, _ in group]
                try:
                    self.transactions += 1
                    members = await run_in_threadpool(
                        selfservice.unsubscribe_many, self.store, requests
                    )
                except BaseException as exc:
                    log.error("unsubscribe group of %d failed: %s", len(group), type(exc).__name__)
                    for _, future in group:
                        if not future.done():
                            future.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
            for (_, future), member in zip(group, members, strict=True):
                if not future.done():  # its request was cancelled; the others still get theirs
                    future.set_result(member)
