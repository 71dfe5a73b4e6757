"""`campaigns report` for a big issue, beside the same counts taken with plain SQL (the floor).

    python benchmarks/report.py [--readers 100000] [--events 1000000] [--runs 5]

A fresh SQLite file gets one campaign of the sample issue sent to --readers readers (sent over
a minute in batches of 1,000; 1.5 % bounced, 0.05 % complained) and --events events in all:
provider events counted into their hours the way `apply_events` stores them (four fifths of
the events) and clicks as `serve` stores them (the rest; a third by link scanners). Each run
times `campaign_report` (what `campaigns report --json` prints), then the floor: the same
totals, per-link and per-hour counts with one GROUP BY query each through sqlite3, without
telling readers' clicks from machines'. Runs interleave; medians and the ratio are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import insert  # noqa: E402

from newsletter.audience.models import Filters  # noqa: E402
from newsletter.audience.store import Store  # noqa: E402
from newsletter.compose.article import read_article  # noqa: E402
from newsletter.compose.editions import ArticleEditions  # noqa: E402
from newsletter.config import Settings  # noqa: E402
from newsletter.db.schema import campaign_recipients, event_hours, link_clicks  # noqa: E402
from newsletter.delivery.issues import Issues  # noqa: E402
from newsletter.delivery.journal import Journal  # noqa: E402
from newsletter.delivery.states import NewCampaign  # noqa: E402
from newsletter.render import render_issue  # noqa: E402
from newsletter.render.issue import Editions  # noqa: E402
from newsletter.reports.campaign import campaign_report  # noqa: E402

CAMPAIGN = "cbench"
SAMPLE = REPO / "articles" / "2025-09-04-ai-blockchain-healthcare.md"
START = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "subscribers.db"
        store = Store.open(f"sqlite:///{path}")
        clicks = _populate(store, args.readers, args.events)
        project, floor = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            report = campaign_report(store, CAMPAIGN)
            project.append(time.perf_counter() - started)
            started = time.perf_counter()
            _floor(path)
            floor.append(time.perf_counter() - started)
        store.close()
    assert (
        report.sent == args.readers
        and report.clicks + sum(report.machine_clicks.values()) == clicks
    )
    p, f = statistics.median(project), statistics.median(floor)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{args.readers:,} readers, {args.events:,} events ({clicks:,} of them clicks)")
    print(
        f"campaign report {p:6.2f} s   floor (plain GROUP BY queries) {f:6.2f} s   ratio {p / f:.1f}x"
    )


def _populate(store: Store, readers: int, events: int) -> int:
    """The campaign, its rows, hourly event counts and clicks; returns how many clicks."""
    values = tomllib.loads((REPO / "newsletter.toml").read_text("utf-8"))
    settings = Settings(**values | {"templates_dir": REPO / "templates"})
    article = read_article(SAMPLE)
    issue = Issues(store).create(
        ArticleEditions.single(article), Editions.single(render_issue(article, settings))
    )
    spec = NewCampaign(
        issue_id=issue.id, slug=issue.slug, article=issue.article, subject="bench",
        article_sha=issue.source_sha, filters=Filters(), provider="sendgrid",
    )  # fmt: skip
    Journal(store).create(spec, campaign_id=CAMPAIGN)
    rng = random.Random(1)
    rows = []
    for n in range(1, readers + 1):
        roll = rng.random()
        delivery = "bounced" if roll < 0.015 else "complained" if roll < 0.0155 else "delivered"
        sent = START + dt.timedelta(seconds=60 * n / readers)
        rows.append(
            {"campaign_id": CAMPAIGN, "subscriber_id": n, "state": "sent", "batch": n // 1000,
             "attempts": 1, "delivery": delivery, "updated_at": sent}
        )  # fmt: skip
    provider_events = events * 4 // 5
    hours = [
        {"campaign_id": CAMPAIGN, "kind": kind, "hour": START + dt.timedelta(hours=h), "count": count}
        for h in range(72)
        for kind, count in (("processed", provider_events // 144), ("delivered", provider_events // 144))
    ]  # fmt: skip
    clicks = events - sum(h["count"] for h in hours)
    machines = ("head", "agent", "burst")
    click_rows = [
        {"campaign_id": CAMPAIGN, "position": rng.randrange(1), "clicked_at": START + dt.timedelta(seconds=rng.randrange(30, 72 * 3600)),
         "subscriber_id": rng.randrange(1, readers + 1), "machine": machines[n % 3] if n % 9 < 3 else None}
        for n in range(clicks)
    ]  # fmt: skip
    with store.write() as conn:
        for table, batch in (
            (campaign_recipients, rows),
            (event_hours, hours),
            (link_clicks, click_rows),
        ):
            for i in range(0, len(batch), 10_000):
                conn.execute(insert(table), batch[i : i + 10_000])
    return clicks


def _floor(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        for query in (
            "SELECT state, delivery, count(*) FROM campaign_recipients WHERE campaign_id = ? GROUP BY state, delivery",
            "SELECT kind, hour, count FROM event_hours WHERE campaign_id = ?",
            "SELECT position, machine IS NULL, count(*) FROM link_clicks WHERE campaign_id = ? GROUP BY 1, 2",
            "SELECT substr(clicked_at, 1, 13), count(*) FROM link_clicks WHERE campaign_id = ? GROUP BY 1",
            "SELECT count(DISTINCT subscriber_id) FROM status_history WHERE campaign_id = ? AND to_status = 'unsubscribed'",
        ):
            conn.execute(query, (CAMPAIGN,)).fetchall()


if __name__ == "__main__":
    main()
