"""Does a send stay linear and flat in memory? `newsletter send` at several list sizes.

    python benchmarks/send_scale.py [--sizes 10000 100000 300000 1000000] [--runs 1]

Each size is a fresh folder, imported and sent through the fake SendGrid (validation off,
SpamAssassin hidden) as in benchmarks/send.py. Prints wall and CPU seconds, peak RSS, and the
CPU per reader above the smallest size's (what each further reader costs), so a cost that grew
faster than the list would show as a rising figure.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.send import sendgrid_campaign, without_spamassassin  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000, 300_000, 1_000_000]
    )
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    path = without_spamassassin()
    base: tuple[int, float] | None = None
    for size in sorted(args.sizes):
        runs = [sendgrid_campaign(size, path=path) for _ in range(args.runs)]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[3] for r in runs)
        rss = max(r[2] for r in runs)
        marginal = ""
        if base is not None:
            marginal = f", {(cpu - base[1]) / (size - base[0]) * 1e6:.1f} µs CPU per reader beyond {base[0]:,}"
        else:
            base = (size, cpu)
        print(
            f"  {size:>9,} readers: wall {wall:6.2f} s, CPU {cpu:6.2f} s, peak RSS {rss:5.0f} MB{marginal}"
        )


if __name__ == "__main__":
    main()
