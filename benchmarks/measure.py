"""Wall time, CPU time and peak RSS of one child process, measured so the parent cannot skew them.

Linux hands a process the peak RSS of the memory image it was forked from when it calls exec,
so a command started by a benchmark that has grown (a fake server holding every request it
accepted) reports the benchmark's size, not its own. A small launcher process is started in
between: the command is forked from the launcher, whose image is small and fresh, and the
launcher reports the command's own figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as out:
    json.dump([wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, status], out)
"""


@dataclass(frozen=True)
class Measured:
    wall: float
    """Seconds from start to exit."""
    cpu: float
    """User and system seconds of the command and the children it waited for."""
    rss_mb: float
    """Peak resident set size in MB."""


def measured(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Measured:
    """Run ``command`` (its output discarded, its errors shown when it fails) and measure it.

    It runs as an installed copy does: Python's bytecode is written on the first run and read
    after it, whatever PYTHONDONTWRITEBYTECODE says (set, every run would compile again each
    module changed since its bytecode was last written)."""
    given = env if env is not None else os.environ
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "measured.json"
        done = subprocess.run(
            [sys.executable, "-S", "-c", LAUNCHER, str(report), *command],
            cwd=cwd,
            env={k: v for k, v in given.items() if k != "PYTHONDONTWRITEBYTECODE"},
            stderr=subprocess.PIPE,
            check=False,
        )
        wall, cpu, rss_kb, status = json.loads(report.read_text())
    if done.returncode or status:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode(errors='replace')}")
    return Measured(wall, cpu, rss_kb / 1024)
