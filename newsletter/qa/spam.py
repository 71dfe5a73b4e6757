"""Spam score of the sample message from a local SpamAssassin, offline (`spamassassin -t -L`).

Only local rules run (-L: no DNS, no network), user preferences are neither read nor written,
and the report is parsed from the X-Spam-Status header. The score is a regression signal for
the message's structure, not a prediction of what Gmail will do.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from newsletter.qa.findings import Finding, Severity

__all__ = ["SPAM_ERROR", "SPAM_WARN", "SpamScore", "spam_findings", "spam_score"]

_STATUS = re.compile(rb"^X-Spam-Status:(.*?)(?=^\S)", re.M | re.S)


@dataclass(frozen=True)
class SpamScore:
    score: float
    rules: tuple[str, ...]


def spam_score(message: bytes, *, timeout: float = 120.0) -> SpamScore | None:
    """The score and the rules that fired; None when SpamAssassin is not installed."""
    binary = shutil.which("spamassassin")
    if binary is None:
        return None
    with tempfile.TemporaryDirectory() as home:
        prefs = Path(home) / "user_prefs"
        prefs.write_text("", encoding="ascii")
        result = subprocess.run(
            [binary, "-t", "-L", "-x", "-p", str(prefs), "--cf=report_safe 0"],
            input=message,
            capture_output=True,
            timeout=timeout,
            check=False,
            env={"HOME": home, "PATH": "/usr/bin:/bin"},
        )
    status = _STATUS.search(result.stdout)
    if status is None:
        raise RuntimeError(
            f"SpamAssassin gave no X-Spam-Status: {result.stderr.decode(errors='replace')[:200]}"
        )
    text = re.sub(r",\s+", ",", b" ".join(status.group(1).split()).decode("ascii", "replace"))
    score = float(re.search(r"score=(-?[\d.]+)", text).group(1))  # type: ignore[union-attr]
    tests = re.search(r"tests=(\S*)", text)
    rules = tuple(r for r in (tests.group(1).split(",") if tests else []) if r and r != "none")
    return SpamScore(score, rules)


SPAM_WARN, SPAM_ERROR = 1.0, 5.0


def spam_findings(score: SpamScore) -> list[Finding]:
    """SpamAssassin's verdict on the sample message: a warning from 1.0, an error from 5.0."""
    if score.score < SPAM_WARN:
        return []
    severity: Severity = "error" if score.score >= SPAM_ERROR else "warning"
    message = f"SpamAssassin scores the message {score.score:.1f} ({', '.join(score.rules)})"
    return [
        Finding(
            severity,
            "spam-score",
            message,
            "email.eml",
            "look up each rule above and change what triggers it",
        )
    ]
