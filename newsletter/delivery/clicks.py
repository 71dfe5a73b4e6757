"""Clicks on tracked links: where a link leads, and the clicks `serve` counted.

A tracked link names a campaign and a position; the target is looked up in the issue's
stored snapshot (never taken from the request), so `/l/` cannot be made to redirect anywhere
the issue does not link to. Clicks are stored with the reader only in per-reader mode.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select

from newsletter.audience.store import Store
from newsletter.db.bulk import bulk_insert
from newsletter.db.schema import campaigns, issues, link_clicks
from newsletter.render.tracking import tracked_links

__all__ = ["Click", "Machine", "link_targets", "record_clicks"]


class Machine(StrEnum):
    """Why a click was counted as a machine's, not a reader's (docs/reporting.md)."""

    HEAD = "head"
    """A HEAD request: link checkers ask whether a page exists; people's browsers GET it."""
    AGENT = "agent"
    """No user agent, or one of a known scanner, crawler or HTTP library."""
    BURST = "burst"
    """The third or later different link of one message from one reader or address within
    seconds: security gateways open every link; people open one at a time."""
    EARLY = "early"
    """Within the first minute after the message was sent (decided by the report)."""


@dataclass(frozen=True)
class Click:
    campaign: str
    position: int
    subscriber_id: int | None
    at: dt.datetime
    machine: Machine | None


def link_targets(store: Store, campaign: str) -> list[str] | None:
    """The tracked links of the campaign's issue as sent, by position (the original's, then each
    other edition's, as MessageBuilder numbers them); None for no such campaign."""
    with store.read() as conn:
        snapshot = conn.execute(
            select(issues.c.rendered)
            .join(campaigns, campaigns.c.issue_id == issues.c.id)
            .where(campaigns.c.id == campaign)
        ).scalar_one_or_none()
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("html"), str):
        return None
    editions = [snapshot, *snapshot.get("editions", [])]  # numbered across editions, in order
    return [link for edition in editions for link in tracked_links(edition["html"])]


def record_clicks(store: Store, clicks: Sequence[Click]) -> None:
    """Store a batch of clicks in one transaction."""
    if not clicks:
        return
    rows = [
        (c.campaign, c.position, c.subscriber_id, c.at, c.machine.value if c.machine else None)
        for c in clicks
    ]
    with store.write() as conn:
        bulk_insert(conn, link_clicks, _CLICK_COLUMNS, rows)


_CLICK_COLUMNS = ("campaign_id", "position", "subscriber_id", "clicked_at", "machine")
