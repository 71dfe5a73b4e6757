"""The email as readers see it before they allow images (Thunderbird's and Outlook's default).

Each image loses its source, so the browser shows its alt text in its place, styled as the
template styles it; an image without alt shows nothing, which is what such readers get.
Also the links the email holds, for the marketer's list of where each one goes.
"""

from __future__ import annotations

import re

import lxml.html

__all__ = ["images_off", "links"]

_IMG_SRC = re.compile(r"(<img\b[^>]*?\ssrc=)(\"[^\"]*\"|'[^']*')", re.I)


def images_off(html: str) -> str:
    return _IMG_SRC.sub(r'\1""', html)


def links(html: str) -> list[tuple[str, str]]:
    """Each distinct (text, target) pair, in the order a reader meets them."""
    tree = lxml.html.document_fromstring(html.encode("utf-8"))
    found: dict[tuple[str, str], None] = {}
    for anchor in tree.iter("a"):
        text = " ".join(anchor.text_content().split()) or "(no text)"
        found.setdefault((text, str(anchor.get("href") or "")), None)
    return list(found)
