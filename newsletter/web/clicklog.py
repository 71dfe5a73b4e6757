"""What `serve` keeps about clicks: each campaign's link targets, recent clicks for the burst
heuristic (in memory only), and the clicks waiting to be written in one group.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections import OrderedDict

from starlette.concurrency import run_in_threadpool

from newsletter.audience.store import Store
from newsletter.delivery.clicks import Click, link_targets, record_clicks
from newsletter.web.writer import Writer

__all__ = ["BurstWatch", "ClickLog", "LinkTargets", "machine_agent"]

log = logging.getLogger("newsletter.web")

FLUSH_EVERY = 0.2
"""Seconds between click writes: a burst of clicks costs one transaction, not one each."""
TARGETS_TTL = 300.0
TARGETS_CACHED = 256
BURST_WINDOW = 2.0
BURST_LINKS = 3
_SCANNERS = re.compile(
    r"bot\b|bot/|crawl|spider|scan|preview|headless|python|curl/|wget/|go-http|java/|okhttp|"
    r"libwww|httpclient|axios|node-fetch|barracuda|mimecast|proofpoint|fortinet|symantec|"
    r"trendmicro|safelinks|urldefense",
    re.IGNORECASE,
)
"""User agents of link scanners, crawlers and HTTP libraries (docs/reporting.md)."""


def machine_agent(user_agent: str | None) -> bool:
    return not user_agent or _SCANNERS.search(user_agent) is not None


class BurstWatch:
    """Who opened which links in the last seconds; kept in memory only, never stored."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], list[tuple[float, int]]] = {}

    def is_burst(self, campaign: str, who: str, position: int, now: float) -> bool:
        """True for the BURST_LINKS-th or later different link within BURST_WINDOW seconds."""
        if len(self._seen) > 10_000:
            self._forget(now)
        recent = [(t, p) for t, p in self._seen.get((campaign, who), []) if now - t < BURST_WINDOW]
        recent.append((now, position))
        self._seen[(campaign, who)] = recent
        return len({p for _, p in recent}) >= BURST_LINKS

    def _forget(self, now: float) -> None:
        self._seen = {
            key: seen for key, seen in self._seen.items() if now - seen[-1][0] < BURST_WINDOW
        }


class LinkTargets:
    """Each campaign's link targets, read once and kept a few minutes."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: OrderedDict[str, tuple[float, list[str] | None]] = OrderedDict()

    async def get(self, campaign: str) -> list[str] | None:
        now = time.monotonic()
        cached = self._cache.get(campaign)
        if cached is not None and now - cached[0] < TARGETS_TTL:
            return cached[1]
        targets = await run_in_threadpool(link_targets, self._store, campaign)
        self._cache[campaign] = (now, targets)
        self._cache.move_to_end(campaign)
        while len(self._cache) > TARGETS_CACHED:
            self._cache.popitem(last=False)
        return targets


class ClickLog:
    """Clicks waiting to be written; one task writes them every FLUSH_EVERY seconds."""

    def __init__(self, store: Store, writer: Writer) -> None:
        self._store = store
        self._writer = writer
        self._pending: list[Click] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, click: Click) -> None:
        self._pending.append(click)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._write_soon())

    async def close(self) -> None:
        """At shutdown: write every pending click now, not after the loop is gone."""
        if self._task is not None:
            self._task.cancel()
        await self.flush()

    async def flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._writer.run(functools.partial(record_clicks, self._store, batch))
            except Exception as exc:  # counted clicks are lost; the redirects were answered
                log.error("%d clicks could not be stored: %s", len(batch), type(exc).__name__)

    async def _write_soon(self) -> None:
        await asyncio.sleep(FLUSH_EVERY)
        await self.flush()
