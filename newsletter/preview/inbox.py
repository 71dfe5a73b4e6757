"""What an inbox row shows after the subject: the message's first text, as clients take it.

Gmail and Apple Mail read the body's text from the top, hidden preheader first, and show as
much as the row holds. Zero-width non-joiners vanish, no-break spaces stay as blanks: the
spacer after the preheader is what keeps the masthead's words out of the row.
"""

from __future__ import annotations

import re

import lxml.html

__all__ = ["SNIPPET_LENGTH", "snippet"]

SNIPPET_LENGTH = 140
"""About what a wide desktop row shows after the subject."""
_SPACE = re.compile(r"[ \t\r\n\f\v]+")


def snippet(html: str, length: int = SNIPPET_LENGTH) -> str:
    """The first ``length`` characters of the body's text, collapsed as an inbox collapses it."""
    body = lxml.html.document_fromstring(html.encode("utf-8")).find("body")
    if body is None:
        return ""
    for hidden in body.xpath(".//style|.//script"):
        hidden.drop_tree()
    text = " ".join(body.itertext())  # blocks read as separate words, as inbox rows show them
    text = _SPACE.sub(" ", text.replace("\u200c", "")).strip()
    return text[:length]
