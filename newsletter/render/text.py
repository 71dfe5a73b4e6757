"""Stage 4: the plain-text part, written from the article's Markdown tokens, not scraped from HTML.

Headings are underlined to their display width (CJK counts double), lists keep their markers,
links become ``text (URL)``, images ``[alt]``, tables ``cell | cell`` rows and code is indented.
"""

from __future__ import annotations

from collections.abc import Sequence

import lxml.html
from markdown_it.token import Token

from newsletter.article import display_width
from newsletter.sanitize import sanitize_html

__all__ = ["body_text"]


class _Writer:
    """Collects text blocks; a tight block (list item, table row) follows its neighbour directly."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.prefixes: list[str] = []  # "> " for quotes, indentation for nested lists
        self.lists: list[int] = []  # next number per open list, -1 for bullets
        self.marker = ""
        self.list_started = False  # the next item is the first of its list: keep a blank line
        self.row: list[str] | None = None

    def block(self, text: str, *, tight: bool = False) -> None:
        if not text.strip():
            return
        lead = "".join(self.prefixes)
        lines = [lead + line if line else lead.rstrip() for line in text.split("\n")]
        if self.parts:
            self.parts.append("\n" if tight else "\n\n")
        self.parts.append("\n".join(lines))

    def item_text(self, text: str, *, tight: bool) -> None:
        marker, self.marker = self.marker, ""
        indent = " " * len(marker)
        first, self.list_started = self.list_started, False
        self.block(marker + text.replace("\n", "\n" + indent), tight=tight and not first)

    def text(self) -> str:
        return "".join(self.parts)


def body_text(tokens: Sequence[Token]) -> str:
    """The article body as plain text."""
    out = _Writer()
    rows_in_table = 0
    for index, token in enumerate(tokens):
        kind = token.type
        opener = tokens[index - 1] if index else token
        if kind == "inline" and out.row is not None:
            out.row.append(_inline(token))
        elif kind == "inline" and opener.type == "heading_open":
            title = _inline(token)
            rule = "=" if opener.tag == "h2" else "-"
            out.block(f"{title}\n{rule * display_width(title)}")
        elif kind == "inline":
            # markdown-it hides the paragraphs of a tight list: those items need no blank line.
            out.item_text(_inline(token), tight=bool(out.lists) and opener.hidden)
        elif kind == "bullet_list_open":
            out.lists.append(-1)
            out.list_started = True
        elif kind == "ordered_list_open":
            out.lists.append(int(token.attrGet("start") or 1))
            out.list_started = True
        elif kind in ("bullet_list_close", "ordered_list_close"):
            out.lists.pop()
        elif kind == "list_item_open":
            number = out.lists[-1]
            out.marker = "- " if number < 0 else f"{number}. "
            if number >= 0:
                out.lists[-1] += 1
            out.prefixes.append("  " * (len(out.lists) - 1))
        elif kind in ("list_item_close", "blockquote_close"):
            out.prefixes.pop()
        elif kind == "blockquote_open":
            out.prefixes.append("> ")
        elif kind in ("fence", "code_block"):
            out.block("\n".join("    " + line for line in token.content.rstrip("\n").split("\n")))
        elif kind == "hr":
            out.block("* * *")
        elif kind == "table_open":
            rows_in_table = 0
        elif kind == "tr_open":
            out.row = []
        elif kind == "tr_close" and out.row is not None:
            out.block(" | ".join(out.row), tight=rows_in_table > 0)
            out.row = None
            rows_in_table += 1
        elif kind == "html_block":
            out.block(_html_text(token.content))
    return out.text()


def _inline(token: Token) -> str:
    out: list[str] = []
    links: list[tuple[str, int]] = []
    for child in token.children or ():
        kind = child.type
        if kind == "text":
            out.append(child.content)
        elif kind == "code_inline":
            out.append(f"`{child.content}`")
        elif kind in ("softbreak", "hardbreak"):
            out.append("\n")
        elif kind == "image":
            alt = child.content or ""
            out.append(f"[{alt}]" if alt else "")
        elif kind == "link_open":
            links.append((str(child.attrGet("href") or ""), len(out)))
        elif kind == "link_close" and links:
            href, start = links.pop()
            label = "".join(out[start:])
            if href and href not in (label, f"mailto:{label}"):
                out.append(f" ({href})")
    return "".join(out).strip()


def _html_text(html: str) -> str:
    safe = sanitize_html(html)
    if not safe.strip():
        return ""
    return " ".join(lxml.html.fromstring(f"<div>{safe}</div>").text_content().split())
