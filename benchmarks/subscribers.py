"""Import and export of generated subscriber lists: seconds and peak RSS of each command.

    python benchmarks/subscribers.py [--sizes 100000 1000000] [--runs 3]

Each measurement is a fresh `newsletter subscribers import|export` process on a fresh SQLite
file, as an editor would run it; peak RSS comes from the kernel's accounting of that child.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


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
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(
            f"{' '.join(command)} failed: {process.stderr.read().decode() if process.stderr else ''}"
        )
    if process.stderr:
        process.stderr.close()
    return elapsed, usage.ru_maxrss / 1024


def measure(rows: int, runs: int, scratch: Path) -> dict[str, tuple[float, float]]:
    source = scratch / f"list-{rows}.csv"
    generate(source, rows)
    results: dict[str, list[tuple[float, float]]] = {"import": [], "export": []}
    for _ in range(runs):
        folder = Path(tempfile.mkdtemp(dir=scratch))
        shutil.copy(REPO / "newsletter.toml", folder)
        base = [sys.executable, "-m", "newsletter", "subscribers"]
        results["import"].append(
            run([*base, "import", str(source), "--consent", "benchmark"], folder)
        )
        results["export"].append(run([*base, "export", str(folder / "export.csv")], folder))
        shutil.rmtree(folder)
    return {
        step: (statistics.median(s for s, _ in samples), max(m for _, m in samples))
        for step, samples in results.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        for rows in args.sizes:
            for step, (seconds, rss) in measure(rows, args.runs, Path(scratch)).items():
                print(
                    f"  {step:<6} {rows:>9,} rows: median {seconds:6.2f} s over {args.runs} runs, peak RSS {rss:6.1f} MB"
                )


if __name__ == "__main__":
    main()
