"""The preview's edition views: which edition a frame shows, and the converted places marked."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

__all__ = ["MARK_STYLE", "marked"]

MARK_STYLE = (
    "<style>mark.nl-reading{background:#ffe08a;color:#1b1f24;border-radius:2px;"
    "box-shadow:0 0 0 1px #c9a227}</style>"
)
_TEXT = re.compile(r">([^<]+)<")


def marked(page: str, phrases: Iterable[str]) -> str:
    """The page with each phrase marked where the body's text has it whole (never in a tag,
    and never in the head, whose text is not HTML)."""
    wanted = sorted(
        {html.escape(p, quote=False) for p in phrases if p.strip()}, key=len, reverse=True
    )
    start = page.find("<body")
    if not wanted or start < 0:
        return page
    pattern = re.compile("|".join(map(re.escape, wanted)))

    def mark(match: re.Match[str]) -> str:
        text = pattern.sub(lambda m: f'<mark class="nl-reading">{m.group()}</mark>', match.group(1))
        return f">{text}<"

    head = page[:start].replace("</head>", f"{MARK_STYLE}</head>", 1)
    return head + _TEXT.sub(mark, page[start:])
