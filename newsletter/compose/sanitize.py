"""An email-safe allow-list for the article's HTML, enforced with nh3 (Rust's ammonia).

Raw HTML in Markdown is allowed so editors can use a table or a <sup>, but nothing that runs,
submits, embeds or phones home: no script, form, iframe, object, event handler or
javascript: URL can reach a subscriber.
"""

from __future__ import annotations

from collections.abc import Iterable
from html.parser import HTMLParser

import nh3

__all__ = ["CONTENT_WIDTH", "MAX_DEPTH", "sanitize_html", "too_deep"]

MAX_DEPTH = 32
"""Elements an article's raw HTML may nest. The email's own layout adds about twenty; the
HTML parser under premailer drops everything past about 255 (footer and unsubscribe link
included), and MJML's compiler crashes the process near 10,000."""
_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}

CONTENT_WIDTH = 552
"""Usable width inside the 600 px layout: no image may be wider (a phone scrolls sideways)."""

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div", "dl",
    "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "*": {"lang", "dir", "title", "style"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start"},
    "time": {"datetime"},
}
_STYLE_PROPERTIES = {
    "color", "background-color", "font-weight", "font-style", "text-align", "text-decoration",
    "margin", "padding", "border", "vertical-align",
}  # fmt: skip
_CLASSES = {"div": {"note"}, "p": {"note"}}
_DROP_WITH_CONTENT = {"script", "style", "template", "noscript", "title", "textarea", "select"}


def sanitize_html(html: str) -> str:
    """Keep the allow-listed tags and attributes; drop the rest, and script bodies entirely."""
    return nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes=_ATTRIBUTES,
        allowed_classes=_CLASSES,
        url_schemes={"https", "http", "mailto", "tel"},
        filter_style_properties=_STYLE_PROPERTIES,
        link_rel=None,
        strip_comments=True,
        attribute_filter=_fit_attribute,
    )


def _fit_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Image widths are capped to the layout and heights dropped (height:auto keeps the ratio)."""
    if tag == "img" and attribute == "width":
        digits = value.strip().removesuffix("px")
        return (
            str(min(int(digits), CONTENT_WIDTH)) if digits.isdigit() and int(digits) > 0 else None
        )
    if tag == "img" and attribute == "height":
        return None
    return value


def too_deep(pieces: Iterable[tuple[int, str]]) -> tuple[int, int] | None:
    """(line, depth) where raw HTML first nests deeper than MAX_DEPTH, or None.

    ``pieces`` are the article's raw HTML fragments in order, each with its first line; an
    element opened in one and closed in a later one counts across them.
    """
    scanner = _Depth()
    for first_line, fragment in pieces:
        scanner.start(first_line)
        scanner.feed(fragment)
        scanner.flush()
        if scanner.found is not None:
            return scanner.found
    return None


class _Depth(HTMLParser):
    """Counts open elements through fragments; remembers where they first went too deep."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.found: tuple[int, int] | None = None
        self._first_line = 0

    def start(self, first_line: int) -> None:
        self.reset()
        self._first_line = first_line

    def flush(self) -> None:
        self.close()  # what feed() held back at the end of a fragment

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in _VOID:
            return
        self.depth += 1
        if self.depth > MAX_DEPTH and self.found is None:
            self.found = (self._first_line + self.getpos()[0] - 1, self.depth)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID:
            self.depth = max(self.depth - 1, 0)
