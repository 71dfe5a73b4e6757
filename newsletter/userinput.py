"""Checks shared by the files users write (newsletter.toml, article front matter)."""

from __future__ import annotations

import re

__all__ = ["key_line", "require_https"]


def require_https(value: str | None) -> str | None:
    """Every link a subscriber follows must be https; None passes (optional settings)."""
    if value is not None and not value.startswith("https://"):
        raise ValueError("must be an https:// URL")
    return value


def key_line(text: str, key: str, assign: str) -> int | None:
    """The 1-based line where ``key`` is assigned (``=`` in TOML, ``:`` in YAML), for errors."""
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*{re.escape(assign)}")
    for number, line in enumerate(text.split("\n"), start=1):
        if pattern.match(line):
            return number
    return None
