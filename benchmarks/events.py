"""SendGrid event batches: events per second parsed, applied, and applied again (a replay).

    python benchmarks/events.py [--subscribers 100000] [--batch 1000] [--runs 9]

A fresh SQLite file gets --subscribers subscribers and a campaign journal for all of them.
Each run posts a new batch for the next slice of the list, as SendGrid's webhook would: mostly
processed and delivered, with one hard bounce, one soft bounce and one deferral per hundred
events. Every batch is one `apply_events` call (one transaction); the median run is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsletter.audience.importer import import_file  # noqa: E402
from newsletter.audience.models import Filters  # noqa: E402
from newsletter.audience.store import Store  # noqa: E402
from newsletter.delivery.events import apply_events  # noqa: E402
from newsletter.delivery.journal import Journal  # noqa: E402
from newsletter.providers.sendgrid_events import parse_events  # noqa: E402

CAMPAIGN = "benchmark"


def populated(folder: Path, count: int) -> tuple[Store, list[tuple[int, str]]]:
    """A store with `count` subscribed readers, all frozen into one campaign."""
    people = folder / "people.csv"
    people.write_text(
        "email\n" + "".join(f"reader{n}@example.org\n" for n in range(count)), "utf-8"
    )
    store = Store.open(f"sqlite:///{folder / 'subscribers.db'}")
    import_file(store, people, consent_text="benchmark")
    Journal(store).start(
        campaign_id=CAMPAIGN,
        slug=CAMPAIGN,
        article="benchmark.md",
        subject="Benchmark",
        article_sha="-",
        filters=Filters(),
        provider="sendgrid",
    )
    return store, [(s.id, s.email) for s in store.iter_all()]


def body(run: int, subscribers: list[tuple[int, str]]) -> bytes:
    """Two events per subscriber (processed, then mostly delivered), as SendGrid posts them."""
    second = {0: ("bounce", "bounce"), 1: ("bounce", "blocked"), 2: ("deferred", None)}
    stamp = int(time.time())
    events: list[dict[str, Any]] = []
    for n, (subscriber, email) in enumerate(subscribers):
        event, kind = second.get(n % 50, ("delivered", None))
        for name, bounce_type in (("processed", None), (event, kind)):
            events.append(
                {
                    "email": email,
                    "timestamp": stamp,
                    "event": name,
                    "sg_event_id": f"{run}-{subscriber}-{name}",
                    "sg_message_id": f"message-{subscriber}",
                    "campaign": CAMPAIGN,
                    "subscriber": str(subscriber),
                    **({"type": bounce_type, "reason": "550 no such user"} if bounce_type else {}),
                }
            )
    return json.dumps(events).encode()


def timed(step: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = step()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    if args.batch % 2 or args.batch * args.runs // 2 > args.subscribers:
        raise SystemExit("--batch must be even, and runs x batch / 2 at most --subscribers")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        store, ids = populated(Path(scratch), args.subscribers)
        rates: dict[str, list[float]] = {"parsed": [], "applied": [], "replayed": []}
        per_batch = args.batch // 2
        for run in range(args.runs):
            posted = body(run, ids[run * per_batch : (run + 1) * per_batch])
            seconds, events = timed(partial(parse_events, posted))
            rates["parsed"].append(len(events) / seconds)
            seconds, summary = timed(partial(apply_events, store, events))
            assert summary.applied == args.batch, summary
            rates["applied"].append(args.batch / seconds)
            seconds, summary = timed(partial(apply_events, store, events))
            assert summary.duplicates == args.batch, summary
            rates["replayed"].append(args.batch / seconds)
        store.close()
    print(f"  {args.subscribers:,} subscribers, batches of {args.batch:,} events, {args.runs} runs")
    for step, samples in rates.items():
        print(f"  {step}: median {statistics.median(samples):,.0f} events/s")


if __name__ == "__main__":
    main()
