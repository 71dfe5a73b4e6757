"""The preview's state: the latest render of the article, re-made on every save.

A render that fails keeps the last good one on screen beside the error, the way a
bundler's overlay does, so an editor mid-edit never loses the page. SpamAssassin takes
seconds, so its score arrives after the render, as a second change.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from anyio import to_thread

from newsletter.config import Settings, load_settings
from newsletter.errors import NewsletterError
from newsletter.qa.build import Checked, check
from newsletter.qa.findings import Finding
from newsletter.qa.spam import SpamScore, spam_findings, spam_score

__all__ = ["PreviewSession", "Snapshot"]


class SpamState(StrEnum):
    """Where the preview's spam score stands for the current render."""

    PENDING = "pending"
    DONE = "done"
    ABSENT = "absent"
    """SpamAssassin is not installed."""
    OFF = "off"


@dataclass(frozen=True)
class Snapshot:
    """One render (or its failure); ``checked`` and ``settings`` are the last good ones.

    ``version`` changes on every update, ``render`` only when the email itself changed.
    """

    version: int
    render: int
    checked: Checked | None
    settings: Settings | None
    error: str | None = None
    spam: SpamScore | None = None
    spam_state: SpamState = SpamState.PENDING

    @property
    def findings(self) -> list[Finding]:
        if self.checked is None:
            return []
        return [*self.checked.report.findings, *(spam_findings(self.spam) if self.spam else [])]


class PreviewSession:
    """Renders ARTICLE with the settings file read afresh each time; tells waiters of changes."""

    def __init__(self, article: Path, config: Path | None, *, spam: bool = True) -> None:
        self.article = article
        self.config = config
        self.spam = spam
        self._versions = itertools.count(1)
        self.snapshot = Snapshot(0, 0, None, None, "not rendered yet")
        self._changed = asyncio.Event()
        self._render_lock = asyncio.Lock()

    def render_now(self) -> Snapshot:
        """Render synchronously (before serving, and in the worker thread on each save)."""
        previous = self.snapshot
        version = next(self._versions)
        try:
            settings = load_settings(self.config)
            checked = check(self.article, settings)
        except NewsletterError as exc:
            return dataclasses.replace(previous, version=version, render=version, error=str(exc))
        state = SpamState.PENDING if self.spam else SpamState.OFF
        return Snapshot(version, version, checked, settings, None, None, state)

    async def rerender(self) -> None:
        """Render off the event loop, publish, then score the new message for spam."""
        async with self._render_lock:
            self.publish(await to_thread.run_sync(self.render_now))
        if self.snapshot.error is None and self.snapshot.spam_state is SpamState.PENDING:
            await self.score_spam()

    async def score_spam(self) -> None:
        """Score the current message, unless spam scoring is off or already done for it."""
        snapshot = self.snapshot
        if snapshot.checked is None or snapshot.spam_state is not SpamState.PENDING:
            return
        score = await to_thread.run_sync(spam_score, snapshot.checked.sample.data)
        if self.snapshot.version == snapshot.version:
            state = SpamState.DONE if score is not None else SpamState.ABSENT
            self.publish(dataclasses.replace(snapshot, spam=score, spam_state=state), bump=True)

    def publish(self, snapshot: Snapshot, *, bump: bool = False) -> None:
        """Make a snapshot current and wake every waiting page (call on the event loop)."""
        if bump:
            snapshot = dataclasses.replace(snapshot, version=next(self._versions))
        self.snapshot = snapshot
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for_change(self, seen: int, timeout: float) -> bool:
        """True once the version differs from ``seen``; False after ``timeout`` seconds."""
        while self.snapshot.version == seen:
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except TimeoutError:
                return False
        return True
