"""`newsletter send` of this tree against an earlier commit, interleaved, as a ratio.

    python benchmarks/send_compare.py --before 05bb252 [--readers 100000] [--runs 5] [--no-spam]

Each run imports --readers readers into a fresh folder with each tree's own code and sends
the sample issue through the fake SendGrid server on 127.0.0.1 (schema validation off). The
two trees alternate, the first of each pair switching every run, so load on this noisy
machine falls on both alike. Prints the median wall and CPU seconds (of the send process and
what it waited for, SpamAssassin included) of each, and after/before.

--no-spam hides SpamAssassin from both (PATH without it): what is left is the work per
recipient and per batch, without the QA gate's one SpamAssassin run per send.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.send import sendgrid_campaign, without_spamassassin  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the commit to compare with")
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-spam", action="store_true", help="hide SpamAssassin from both")
    args = parser.parse_args()
    path = without_spamassassin() if args.no_spam else os.environ["PATH"]
    with tempfile.TemporaryDirectory() as scratch:
        before = Path(scratch) / "before"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(before), args.before],
            check=True, capture_output=True,
        )  # fmt: skip
        try:
            trees = {"before": before, "after": REPO}
            times: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
            for run in range(args.runs):
                order = list(trees) if run % 2 == 0 else list(reversed(trees))
                for name in order:
                    wall, _, _, cpu = sendgrid_campaign(args.readers, trees[name], path)
                    times[name].append((wall, cpu))
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(before)],
                check=False, capture_output=True,
            )  # fmt: skip
    medians = {
        name: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
        for name, runs in times.items()
    }
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; {args.readers:,} readers, {args.runs} runs each"
    )
    for name, (wall, cpu) in medians.items():
        print(f"  {name:6} median wall {wall:.2f} s, CPU {cpu:.2f} s")
    (wb, cb), (wa, ca) = medians["before"], medians["after"]
    print(f"  after/before: wall {wa / wb:.3f}x, CPU {ca / cb:.3f}x")


if __name__ == "__main__":
    main()
