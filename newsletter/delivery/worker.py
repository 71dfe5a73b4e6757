"""Scheduled campaigns: `campaigns run-due` sends every one whose time has come; `worker` loops.

A campaign is due when its time has passed and it is still scheduled, or when a run of it
stopped without finishing (a crash, SIGKILL, a worker shut down between batches): such a run
continues exactly as a manual `send` would, its in-flight batch uncertain. One whose QA
fails at its time is paused with the findings' summary as its note instead of being sent.
A campaign another process is sending (its lock is held) is left to that process.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass

from newsletter.audience.queries import now
from newsletter.audience.store import Store
from newsletter.config import Settings
from newsletter.delivery.campaign import deliver
from newsletter.delivery.gate import Refused
from newsletter.delivery.journal import Journal
from newsletter.delivery.lock import Busy
from newsletter.delivery.runner import Progress, Summary
from newsletter.delivery.states import Campaign, CampaignStatus
from newsletter.errors import NewsletterError

__all__ = ["DueRun", "run_due", "work"]


@dataclass(frozen=True)
class DueRun:
    campaign: Campaign
    summary: Summary | None = None
    problem: str | None = None
    busy: bool = False
    """Another process holds the campaign's lock: not a problem, just not ours to run."""


def run_due(
    store: Store,
    settings: Settings,
    *,
    moment: dt.datetime | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    progress: Progress | None = None,
) -> list[DueRun]:
    """Deliver every due campaign, oldest time first; one's failure does not stop the rest."""
    journal = Journal(store)
    runs: list[DueRun] = []
    for campaign in journal.due(moment or now()):
        if should_stop():
            break
        try:
            summary = deliver(
                store, settings, campaign.id, should_stop=should_stop, progress=progress
            )
        except Busy as exc:
            runs.append(DueRun(campaign, problem=str(exc), busy=True))
        except Refused as exc:
            journal.set_status(campaign.id, CampaignStatus.PAUSED, str(exc))
            runs.append(DueRun(campaign, problem=str(exc)))
        except NewsletterError as exc:
            runs.append(DueRun(campaign, problem=str(exc)))
        else:
            runs.append(DueRun(campaign, summary))
    return runs


def work(
    store: Store,
    settings: Settings,
    *,
    interval: float,
    stop: threading.Event,
    report: Callable[[list[DueRun]], None],
) -> None:
    """run-due every ``interval`` seconds until ``stop`` is set (between batches, never mid-batch)."""
    while not stop.is_set():
        report(run_due(store, settings, should_stop=stop.is_set))
        stop.wait(interval)
