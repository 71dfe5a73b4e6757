"""An email-safe allow-list for the article's HTML, enforced with nh3 (Rust's ammonia).

Raw HTML in Markdown is allowed so editors can use a table or a <sup>, but nothing that runs,
submits, embeds or phones home: no script, form, iframe, object, event handler or
javascript: URL can reach a subscriber.
"""

from __future__ import annotations

import nh3

__all__ = ["CONTENT_WIDTH", "sanitize_html"]

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
