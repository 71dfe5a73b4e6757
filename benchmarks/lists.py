"""A project folder with a list imported, as every benchmark that sends or serves starts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def imported(
    folder: Path, readers: int, code: Path = REPO, env: dict[str, str] | None = None
) -> Path:
    """Copy ``code``'s settings and templates into ``folder`` and import ``readers`` readers
    (reader<n>@example.org, "Reader <n>") with that code; returns the SQLite file."""
    shutil.copy(code / "newsletter.toml", folder)
    shutil.copytree(code / "templates", folder / "templates")
    people = folder / "people.csv"
    people.write_text(
        "email,name\n" + "".join(f"reader{n}@example.org,Reader {n}\n" for n in range(readers)),
        "utf-8",
    )
    subprocess.run(
        [sys.executable, "-m", "newsletter", "subscribers", "import", str(people), "--consent", "benchmark"],
        cwd=folder,
        env={**(env if env is not None else os.environ), "PYTHONPATH": str(code)},
        check=True,
        capture_output=True,
    )  # fmt: skip
    return folder / "subscribers" / "subscribers.db"
