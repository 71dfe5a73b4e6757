"""Click tracking: which links of an issue are tracked, and its HTML with them rewritten.

Only the HTML part's ``<a href>`` links to http(s) pages are tracked, numbered in document
order: not the unsubscribe or web-view links (they are per-recipient slots), not mailto: or
tel:, and not the plain-text part, whose readers see every address they open. `serve` finds
the target of ``/l/TOKEN`` by numbering the stored snapshot's links with the same function,
so a redirect can only ever lead to a link the issue contains.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from newsletter.render.issue import RenderedIssue

__all__ = ["track_links", "tracked_links"]

_HREF = re.compile(r"""(<a\b[^>]*?\shref=)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_SLOT = "@@nl."


def tracked_links(html_text: str) -> list[str]:
    """The links tracking would rewrite, in order: position N is the N-th, as the author wrote it."""
    return [
        url
        for match in _HREF.finditer(html_text)
        if _trackable(url := html.unescape(match.group(3)).strip())
    ]


def track_links(issue: RenderedIssue, url_for: Callable[[int], str]) -> RenderedIssue:
    """The issue with each tracked link replaced by ``url_for(position)`` (HTML-escaped here)."""
    position = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal position
        if not _trackable(html.unescape(match.group(3)).strip()):
            return match.group(0)
        url = html.escape(url_for(position), quote=True)
        position += 1
        return f"{match.group(1)}{match.group(2)}{url}{match.group(2)}"

    return issue.with_html(_HREF.sub(replace, issue.html))


def _trackable(url: str) -> bool:
    return url.lower().startswith(("http://", "https://")) and _SLOT not in url
