"""The list as a whole, week by week, replayed from the status history.

Every status change has a history row (ids only, append-only, kept after an erasure), so the
list's size by status at the end of any week can be rebuilt without snapshots. A week that
had an import is marked: a jump in sign-ups from an import is not growth from the form.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from pydantic import BaseModel
from sqlalchemy import String, func, select, type_coerce

from newsletter.audience.models import Status
from newsletter.audience.store import Store
from newsletter.db.schema import history, subscribers

__all__ = ["ListReport", "Week", "list_report", "replay_weeks"]

_IMPORT = "import:"


class Week(BaseModel):
    week: str
    """The Monday the week starts (UTC), as YYYY-MM-DD."""
    joined: int
    """Readers who became subscribed (confirmed, added, imported or back)."""
    left: int
    """Subscribed readers who unsubscribed, bounced, complained or were erased."""
    imported: int
    """Of those who joined, how many came from an import."""
    by_status: dict[str, int]
    """Readers by status at the end of the week."""


class ListReport(BaseModel):
    by_status: dict[str, int]
    weeks: list[Week]


def list_report(store: Store) -> ListReport:
    h = history.c
    query = select(
        h.subscriber_id, type_coerce(h.changed_at, String), h.from_status, h.to_status, h.actor
    ).order_by(h.changed_at, h.id)
    with store.read() as conn:
        now: dict[str, int] = dict(
            conn.execute(
                select(subscribers.c.status, func.count()).group_by(subscribers.c.status)
            ).all()  # a Result has keys(): dict() would read it as a mapping
        )
        rows = [tuple(row) for row in conn.execute(query)]
    return ListReport(
        by_status={s.value: now.get(s.value, 0) for s in Status},
        weeks=replay_weeks(rows),
    )


def replay_weeks(rows: list[tuple[Any, ...]]) -> list[Week]:
    status: dict[int, str] = {}
    counts: Counter[str] = Counter()
    weeks: list[Week] = []
    current: str | None = None
    joined = left = imported = 0
    for subscriber, changed_at, _from, to, actor in rows:
        week = _monday(changed_at)
        if week != current:
            if current is not None:
                weeks.append(_week(current, joined, left, imported, counts))
            current, joined, left, imported = week, 0, 0, 0
        before = status.get(subscriber)
        if before == to:
            continue  # a name or tag change: same status
        if before is not None:
            counts[before] -= 1
        counts[to] += 1
        status[subscriber] = to
        if to == Status.SUBSCRIBED:
            joined += 1
            imported += actor.startswith(_IMPORT)
        elif before == Status.SUBSCRIBED:
            left += 1
    if current is not None:
        weeks.append(_week(current, joined, left, imported, counts))
    return _without_gaps(weeks)


def _without_gaps(weeks: list[Week]) -> list[Week]:
    """A quiet week is a week too: nobody joined or left, the list as the week before."""
    filled: list[Week] = []
    for week in weeks:
        while filled and _next_monday(filled[-1].week) < week.week:
            quiet = _next_monday(filled[-1].week)
            filled.append(
                Week(week=quiet, joined=0, left=0, imported=0, by_status=filled[-1].by_status)
            )
        filled.append(week)
    return filled


def _next_monday(monday: str) -> str:
    return (dt.date.fromisoformat(monday) + dt.timedelta(days=7)).isoformat()


def _week(week: str, joined: int, left: int, imported: int, counts: Counter[str]) -> Week:
    return Week(
        week=week,
        joined=joined,
        left=left,
        imported=imported,
        by_status={s.value: counts.get(s.value, 0) for s in Status},
    )


def _monday(moment: str) -> str:
    day = dt.date.fromisoformat(moment[:10])
    return (day - dt.timedelta(days=day.weekday())).isoformat()
