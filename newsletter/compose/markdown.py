"""Markdown of the article body -> token stream -> email-safe HTML.

One parser configuration serves the HTML body, the plain-text part and the word count, so the
three never disagree about what the article says.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.container import container_plugin

from newsletter.compose.sanitize import CONTENT_WIDTH, sanitize_html

__all__ = ["body_html", "inline_text", "parse", "plain_text"]

_RAW_HREF = re.compile(r"""^<a\s[^>]*?href\s*=\s*["']([^"']*)["']""", re.I)
_RAW_A_CLOSE = re.compile(r"^</a\s*>$", re.I)
_RAW_BR = re.compile(r"^<br\s*/?>$", re.I)

_IMG = re.compile(r"<img\b([^>]*?)>")
_WIDTH = re.compile(r'\swidth="(\d+)"')
_STYLE = re.compile(r'\sstyle="[^"]*"')
_TABLE_OPEN = re.compile(r"<table(?=[\s>])")
_PRE_OPEN = re.compile(r"<pre(?=[\s>])")
_NUMBER_UNIT = re.compile(r"(?<=\d) (?=[%％‰])")
"""The space in "0.6 %": no-break, so a number never ends one line and its unit starts the next."""
_DEAD_LINK = re.compile(r"<a(?![^>]*\shref=)[^>]*>(.*?)</a>", re.S)
_H1 = re.compile(r"<(/?)h1\b")


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


def raw_html(tokens: Sequence[Token]) -> Iterator[tuple[int, str]]:
    """The body's raw HTML, block and inline, each piece with its 0-based line in the body."""
    for token in tokens:
        line = token.map[0] if token.map else 0
        if token.type == "html_block":
            yield line, token.content
        for child in token.children or ():
            if child.type == "html_inline":
                yield line, child.content


def body_html(tokens: Sequence[Token]) -> str:
    """Render tokens to HTML, then keep only what is safe and meaningful in an email."""
    html = sanitize_html(_parser().renderer.render(list(tokens), _parser().options, {}))
    html = _NUMBER_UNIT.sub("\u00a0", _H1.sub(r"<\1h2", html))
    return _scrolling_tables(_fit_images(_unwrap_dead_links(html)))


def _scrolling_tables(html: str) -> str:
    """A table wider than a phone scrolls inside its own box, so its cells keep words and
    numbers whole and the email never scrolls sideways (width 0, at least 100%: the box
    takes the column's width, not the table's). Scrolling boxes take the keyboard focus."""
    html = _TABLE_OPEN.sub('<div class="scroll" tabindex="0" style="overflow-x:auto"><table', html)
    html = _PRE_OPEN.sub('<pre tabindex="0"', html)  # keyboards can scroll code too
    return html.replace("</table>", "</table></div>")


def _unwrap_dead_links(html: str) -> str:
    """A link the sanitizer took the address from (javascript:, data:) reads as its text,
    not as blue underlined words going nowhere."""
    return _DEAD_LINK.sub(r"\1", html)


def _fit_images(html: str) -> str:
    """Full width up to the image's own width: shrinks on a phone, never grows past its pixels.

    The width attribute stays for Outlook, which ignores CSS sizes. An image without one keeps
    its natural size up to the column (an icon stays an icon; check warns about Outlook). Every
    image gets an alt, empty when the article gave none (check warns to write one).
    """

    def fit(match: re.Match[str]) -> str:
        attributes = _STYLE.sub("", match.group(1)).rstrip("/ ")
        if " alt=" not in f" {attributes}":
            attributes += ' alt=""'
        width = _WIDTH.search(attributes)
        if width is None:
            return f'<img{attributes} style="display:block;max-width:100%;height:auto;border:0">'
        return f'<img{attributes} style="display:block;width:100%;max-width:{width.group(1)}px;height:auto;border:0">'

    return _IMG.sub(fit, html)


def inline_text(token: Token, *, urls: bool) -> str:
    """The text of an inline token without markup; with urls, links read ``label (URL)``.

    One flattener for the plain-text part (urls=True) and for the preheader and the reading
    time (urls=False), so they never disagree about what the words are.
    """
    out: list[str] = []
    links: list[tuple[str, int]] = []
    for child in token.children or ():
        kind = child.type
        if kind in ("text", "code_inline"):
            out.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            out.append("\n" if urls else " ")
        elif kind == "image" and child.content:
            out.append(f"[{child.content}]" if urls else child.content)
        elif kind == "link_open":
            links.append((str(child.attrGet("href") or ""), len(out)))
        elif kind == "html_inline" and (raw := _RAW_HREF.search(child.content)):
            links.append((raw.group(1), len(out)))
        elif kind == "html_inline" and _RAW_BR.match(child.content):
            out.append("\n" if urls else " ")
        elif (
            kind == "link_close" or (kind == "html_inline" and _RAW_A_CLOSE.match(child.content))
        ) and links:
            href, start = links.pop()
            label = "".join(out[start:]).strip()
            if urls and href and href not in (label, f"mailto:{label}"):
                out.append(f" ({href})")
    return "".join(out).strip()


def plain_text(tokens: Sequence[Token]) -> str:
    """Every word of the body once, without URLs or markup (for counting)."""
    return "\n".join(inline_text(t, urls=False) for t in tokens if t.type == "inline")


def _demote_headings(tokens: list[Token]) -> None:
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    shift = 2 - min(levels) if levels and min(levels) < 2 else 0
    if not shift:
        return
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + shift, 6)}"
