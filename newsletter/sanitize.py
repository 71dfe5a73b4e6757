"""An email-safe allow-list for the article's HTML, enforced with nh3 (Rust's ammonia).

Raw HTML in Markdown is allowed so editors can use a table or a <sup>, but nothing that runs,
submits, embeds or phones home: no script, form, iframe, object, event handler or
javascript: URL can reach a subscriber.
"""

from __future__ import annotations

import nh3

__all__ = ["sanitize_html"]

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
    "width", "max-width", "height", "margin", "padding", "border", "vertical-align",
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
    )
