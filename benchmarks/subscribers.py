"""Import and export of generated subscriber lists: seconds and peak RSS of each command.

    python benchmarks/subscribers.py [--sizes 100000 1000000] [--runs 3]

Each measurement is a fresh `newsletter subscribers import|export` process on a fresh SQLite
file, as an editor would run it; peak RSS comes from the kernel's accounting of that child.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.measure import measured  # noqa: E402


def generate(path: Path, rows: int) -> None:
    """Realistic rows: mixed tags and languages, a few Chinese names, some duplicates."""
    with path.open("w", encoding="utf-8") as out:
        out.write("email,name,lang,tags\n")
        for n in range(rows):
            name = f"陳{n % 97}號" if n % 10 == 0 else f"Reader {n}"
            lang = "zh-Hant" if n % 2 else "en"
            address = f"reader{n if n % 50 else n - 1}@example.org"  # 2% duplicates
            out.write(f'{address},{name},{lang},"{("hk", "tw", "ai")[n % 3]}"\n')


def run(command: list[str], cwd: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one child process."""
    done = measured(command, cwd)
    return done.wall, done.rss_mb


def export_floor(database: str, output: str) -> None:
    """The floor of an export: one SELECT and csv.writer, nothing else, writing the same bytes.

    Run in its own bare process (`--export-floor`), as the export runs in its own.
    """
    formula = frozenset("=+-@\t\r'")

    def cell(value: object) -> str:
        text = "" if value is None else str(value)
        return "'" + text if text[:1] in formula else text

    db = sqlite3.connect(database)
    tags: dict[int, list[str]] = {}
    query = "SELECT subscriber_id, tag FROM subscriber_tags ORDER BY subscriber_id, tag"
    for subscriber_id, tag in db.execute(query):
        tags.setdefault(subscriber_id, []).append(tag)
    with open(output, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for row in db.execute(
            f"SELECT id, {', '.join(c for c in COLUMNS if c != 'tags')} "
            "FROM subscribers ORDER BY id"
        ):
            found = tags.get(row[0])
            extra = row[16]
            writer.writerow((
                *(cell(v) for v in row[1:4]),
                json.dumps(found, ensure_ascii=False) if found else "[]",
                *(cell(v) for v in row[4:16]),
                extra if extra == "{}" else json.dumps(json.loads(extra), ensure_ascii=False, sort_keys=True),
            ))  # fmt: skip


COLUMNS = (
    "email", "name", "lang", "tags", "status", "source", "created_at", "confirmed_at",
    "unsubscribed_at", "status_changed_at", "consent_at", "consent_method", "consent_ip",
    "consent_user_agent", "bounce_count", "last_bounce_reason", "attributes",
)  # fmt: skip


def import_floor(source: str, database: str) -> None:
    """The floor of an import: csv.reader, the same address check, one executemany per table in
    one transaction; duplicates are dropped rather than merged, nothing else is validated."""
    sys.path.insert(0, str(REPO))
    from newsletter.addresses import normalize

    at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    people: dict[str, tuple[str, str, str, str]] = {}
    with open(source, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for email, name, lang, tags in reader:
            address = normalize(email)
            people.setdefault(address.key, (address.email, name, lang, tags))
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    db.executemany(
        "INSERT INTO subscribers (id, email, email_key, name, lang, status, source, created_at,"
        " status_changed_at, confirmed_at, consent_at, consent_method, bounce_count, attributes)"
        " VALUES (?, ?, ?, ?, ?, 'subscribed', 'import', ?, ?, ?, ?, 'benchmark', 0, '{}')",
        [
            (n, email, key, name, lang, at, at, at, at)
            for n, (key, (email, name, lang, _)) in enumerate(people.items(), 1)
        ],
    )
    db.executemany(
        "INSERT INTO status_history (subscriber_id, changed_at, to_status, actor, reason)"
        " VALUES (?, ?, 'subscribed', 'import', 'imported')",
        [(n, at) for n in range(1, len(people) + 1)],
    )
    db.executemany(
        "INSERT INTO subscriber_tags (subscriber_id, tag) VALUES (?, ?)",
        [
            (n, tag.strip())
            for n, (_, _, _, tags) in enumerate(people.values(), 1)
            for tag in tags.split(",")
        ],
    )
    db.execute("COMMIT")


def measure(rows: int, runs: int, scratch: Path) -> dict[str, tuple[float, float]]:
    """(median seconds, peak RSS) of each step and its floor, interleaved run by run."""
    source = scratch / f"list-{rows}.csv"
    generate(source, rows)
    steps = ("import", "import floor", "export", "export floor")
    results: dict[str, list[tuple[float, float]]] = {step: [] for step in steps}
    for _ in range(runs):
        folder = Path(tempfile.mkdtemp(dir=scratch))
        shutil.copy(REPO / "newsletter.toml", folder)
        base = [sys.executable, "-m", "newsletter", "subscribers"]
        floor = [sys.executable, __file__]
        run([*base, "list"], folder)  # an empty store, migrated: both imports start from it
        database = folder / "subscribers" / "subscribers.db"
        shutil.copy(database, folder / "floor.db")
        results["import"].append(run([*base, "import", str(source), "--consent", "b"], folder))
        results["import floor"].append(
            run([*floor, "--import-floor", str(source), str(folder / "floor.db")], folder)
        )
        if _count(database) != _count(folder / "floor.db"):
            raise SystemExit("the import floor stored another number of subscribers")
        results["export"].append(run([*base, "export", str(folder / "export.csv")], folder))
        results["export floor"].append(
            run([*floor, "--export-floor", str(database), str(folder / "floor.csv")], folder)
        )
        if (folder / "floor.csv").read_bytes() != (folder / "export.csv").read_bytes():
            raise SystemExit("the export floor wrote other bytes than the export")
        shutil.rmtree(folder)
    return {
        step: (statistics.median(s for s, _ in samples), max(m for _, m in samples))
        for step, samples in results.items()
    }


def _count(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT count(*) FROM subscribers").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--export-floor", nargs=2, metavar=("DATABASE", "CSV"), help="internal")
    parser.add_argument("--import-floor", nargs=2, metavar=("CSV", "DATABASE"), help="internal")
    args = parser.parse_args()
    if args.export_floor:
        export_floor(*args.export_floor)
        return
    if args.import_floor:
        import_floor(*args.import_floor)
        return
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        for rows in args.sizes:
            found = measure(rows, args.runs, Path(scratch))
            for step, (seconds, rss) in found.items():
                ratio = ""
                if f"{step} floor" in found:
                    floor = found[f"{step} floor"][0]
                    ratio = f", floor {floor:.2f} s, ratio {seconds / floor:.1f}x"
                print(
                    f"  {step:<12} {rows:>9,} rows: median {seconds:6.2f} s over {args.runs} "
                    f"runs, peak RSS {rss:6.1f} MB{ratio}"
                )


if __name__ == "__main__":
    main()
