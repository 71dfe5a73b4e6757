"""The list report replays the status history week by week."""

from __future__ import annotations

from newsletter.audience.models import Status
from newsletter.reports.audience import replay_weeks

S, U, P = Status.SUBSCRIBED.value, Status.UNSUBSCRIBED.value, Status.PENDING.value


def test_weeks_count_joins_imports_and_departures_and_keep_quiet_weeks() -> None:
    rows = [
        (1, "2026-11-02T09:00:00.000000+00:00", None, S, "import:people.csv"),
        (2, "2026-11-03T09:00:00.000000+00:00", None, S, "import:people.csv"),
        (3, "2026-11-04T09:00:00.000000+00:00", None, P, "web"),
        (3, "2026-11-05T09:00:00.000000+00:00", P, S, "web"),
        (1, "2026-11-05T10:00:00.000000+00:00", S, S, "cli"),  # a name change: no move
        (2, "2026-11-24T09:00:00.000000+00:00", S, U, "web"),
    ]
    weeks = replay_weeks(rows)
    assert [w.week for w in weeks] == ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"]
    assert [(w.joined, w.imported, w.left) for w in weeks] == [
        (3, 2, 0),
        (0, 0, 0),
        (0, 0, 0),
        (0, 0, 1),
    ]
    assert weeks[1].by_status == weeks[0].by_status
    assert weeks[0].by_status[S] == 3 and weeks[0].by_status[P] == 0
    assert weeks[-1].by_status[S] == 2 and weeks[-1].by_status[U] == 1
