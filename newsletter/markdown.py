"""Markdown of the article body -> token stream -> email-safe HTML.

One parser configuration serves the HTML body, the plain-text part and the word count, so the
three never disagree about what the article says.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.container import container_plugin

from newsletter.sanitize import sanitize_html

__all__ = ["body_html", "parse", "plain_inline"]

CONTENT_WIDTH = 552
"""Usable width inside the 600 px layout; the default width of a Markdown image."""


@cache
def _parser() -> MarkdownIt:
    return (
        MarkdownIt("commonmark", {"html": True, "typographer": False})
        .enable(["table", "strikethrough"])
        .use(container_plugin, name="note")
        .use(attrs_plugin)
    )


def parse(source: str) -> list[Token]:
    """Parse the body once.

    Headings are shifted so the article title stays the only h1, and images get the content
    width unless they say otherwise (`![alt](url){width=300}`), since Outlook ignores max-width.
    """
    tokens = _parser().parse(source)
    _demote_headings(tokens)
    for token in tokens:
        for child in token.children or ():
            if child.type == "image" and not child.attrGet("width"):
                child.attrSet("width", str(CONTENT_WIDTH))
    return tokens


def body_html(tokens: Sequence[Token]) -> str:
    """Render tokens to HTML, then keep only what is safe and meaningful in an email."""
    html = _parser().renderer.render(list(tokens), _parser().options, {})
    return sanitize_html(html)


def plain_inline(token: Token) -> str:
    """The visible text of an inline token, without markup (for counts and the preheader)."""
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "image":
            parts.append(child.content or "")
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def _demote_headings(tokens: list[Token]) -> None:
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    shift = 2 - min(levels) if levels and min(levels) < 2 else 0
    if not shift:
        return
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + shift, 6)}"
