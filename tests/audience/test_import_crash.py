"""An import killed mid-way (SIGKILL, no chance to clean up) leaves the store exactly as it was."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from newsletter.audience.store import Consent, Store


def test_a_killed_import_changes_nothing(project: Path) -> None:
    url = f"sqlite:///{project / 'subscribers' / 'subscribers.db'}"
    store = Store.open(url)
    for name in ("ada", "bob", "chan"):
        store.add(f"{name}@example.com", consent=Consent("test"))
    before = sorted((s.email, s.status) for s in store.find())
    store.close()
    big = project / "big.csv"
    big.write_text(
        "email,name\nnot-an-address,Rejected early\n"
        + "".join(f"reader{n}@example.org,Reader {n}\n" for n in range(400_000)),
        "utf-8",
    )

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsletter",
            "subscribers",
            "import",
            str(big),
            "--consent",
            "test",
        ],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wal = project / "subscribers" / "subscribers.db-wal"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not wal.exists() or wal.stat().st_size < 4_000_000):
        if process.poll() is not None:
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    _, errors = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL, (
        f"the import ended by itself before the kill: {errors!r}"
    )
    assert wal.stat().st_size >= 4_000_000, "the import had not written anything yet"

    store = Store.open(url)
    assert sorted((s.email, s.status) for s in store.find()) == before
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".")) == [], (
        "a half-written reject file was left beside the input"
    )
    store.close()
    with sqlite3.connect(project / "subscribers" / "subscribers.db") as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
