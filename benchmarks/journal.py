"""The journal's share of a send: claim and record every batch of a campaign, beside a floor.

    python benchmarks/journal.py [--readers 100000] [--batch 1000] [--runs 5]

One SQLite file holds --readers subscribers and a started campaign of the sample issue; each
run works on a fresh copy of it. The project claims each batch with `Journal.claim` (rows
marked sending, the ledger entered, recipients built) and records it all sent with
`Journal.record`, as the runner does when SendGrid accepts a batch. The floor is the same
statements written for sqlite3 by hand (benchmarks/send_floor.py's, which the whole send's
floor runs too): the same rows read, written and committed, the same
(id, address, name, first name) handed back, with nothing in the way. Medians of interleaved
runs, and their ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.lists import imported  # noqa: E402
from benchmarks.send_floor import CLAIM, LEDGER, SENDING, SENT  # noqa: E402
from newsletter.audience.store import Store  # noqa: E402
from newsletter.delivery.journal import Journal  # noqa: E402
from newsletter.providers.base import Sent  # noqa: E402
from newsletter.recipients import greeting_name  # noqa: E402
from tests.delivery.helpers import open_campaign  # noqa: E402


def prepare(folder: Path, readers: int) -> Path:
    """A database with ``readers`` subscribers and campaign c1 started, audience frozen."""
    database = imported(folder, readers)
    store = Store.open(f"sqlite:///{database}")
    Journal(store).start(open_campaign(store))
    store.close()
    return database


def project(database: Path, batch: int) -> int:
    store = Store.open(f"sqlite:///{database}")
    journal = Journal(store)
    claimed, sent = 0, Sent("id")  # SendGrid's one answer for a whole batch, as it is given
    while (claim := journal.claim("c1", batch, edition_of=lambda lang: "zh-Hant")) is not None:
        outcomes = [(subscriber_id, sent) for subscriber_id, _ in claim.recipients]
        journal.record("c1", claim.batch, outcomes, whole_edition="zh-Hant")
        claimed += len(claim.recipients)
    store.close()
    return claimed


def floor(database: Path, batch: int) -> int:
    connection = sqlite3.connect(database, isolation_level=None)
    (issue_id,) = connection.execute("SELECT issue_id FROM campaigns WHERE id = 'c1'").fetchone()
    cursor, number, claimed = 0, 0, 0
    while True:
        moment = dt.datetime.now(dt.UTC).isoformat()
        connection.execute("BEGIN IMMEDIATE")
        pending = connection.execute(CLAIM, ("c1", cursor, batch)).fetchall()
        if not pending:
            connection.execute("COMMIT")
            break
        number += 1
        cursor = pending[-1][0]
        connection.execute(SENDING, (number, moment, "zh-Hant", "c1", pending[0][0], cursor))
        connection.execute(LEDGER, (issue_id, "c1", moment, "c1", number))
        connection.execute("COMMIT")
        recipients = [(str(r[0]), r[1], r[2], greeting_name(r[2], r[5])) for r in pending]
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(SENT, ("id", moment, "c1", number, "zh-Hant"))
        connection.execute("COMMIT")
        claimed += len(recipients)
    connection.close()
    return claimed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        prepared = prepare(Path(scratch), args.readers)
        works: dict[str, Callable[[Path, int], int]] = {"project": project, "floor": floor}
        times: dict[str, list[float]] = {name: [] for name in works}
        for run in range(args.runs):
            for name, work in works.items():
                copy = Path(scratch) / f"{name}-{run}.db"
                shutil.copy(prepared, copy)
                start = time.perf_counter()
                claimed = work(copy, args.batch)
                times[name].append(time.perf_counter() - start)
                if claimed != args.readers:
                    raise SystemExit(f"{name} claimed {claimed} of {args.readers}")
                copy.unlink()
    ours, bare = (statistics.median(times[name]) for name in works)
    batches = -(-args.readers // args.batch)
    print(
        f"  journal claim + record, {batches} batches of {args.batch:,}: {ours:.2f} s, "
        f"floor {bare:.2f} s (sqlite3, the same statements), ratio {ours / bare:.1f}x; "
        f"medians of {args.runs} interleaved runs"
    )


if __name__ == "__main__":
    main()
