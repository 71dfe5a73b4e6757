"""Stage 4: the plain-text part, written from the article's Markdown tree, not scraped from HTML.

Headings are underlined to their display width (CJK counts double); list items keep their
markers and indent everything they contain under the marker; quotes prefix every line,
blank ones too; links read ``label (URL)``, images ``[alt]``; tables become ``cell | cell``
rows and code is indented four spaces.
"""

from __future__ import annotations

from collections.abc import Sequence

import lxml.html
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

from newsletter.compose.markdown import inline_text
from newsletter.compose.reading import display_width
from newsletter.compose.sanitize import sanitize_html

__all__ = ["body_text"]

Lines = list[str]


def body_text(tokens: Sequence[Token]) -> str:
    """The article body as plain text, blocks separated by one blank line."""
    return "\n".join(_join(_block(node) for node in SyntaxTreeNode(list(tokens)).children))


def _block(node: SyntaxTreeNode) -> Lines:
    kind = node.type
    if kind == "paragraph":
        return _inline(node).split("\n")
    if kind == "heading":
        title = _inline(node)
        return [title, ("=" if node.tag == "h2" else "-") * display_width(title)]
    if kind in ("bullet_list", "ordered_list"):
        return _list(node)
    if kind == "blockquote":
        return [
            f"> {line}" if line else ">" for line in _join(_block(child) for child in node.children)
        ]
    if kind in ("fence", "code_block"):
        return ["    " + line for line in node.content.rstrip("\n").split("\n")]
    if kind == "hr":
        return ["* * *"]
    if kind == "table":
        return [" | ".join(_inline(cell) for cell in row.children) for row in _rows(node)]
    if kind == "html_block":
        text = _html_text(node.content)
        return [text] if text else []
    return _join(_block(child) for child in node.children)


def _list(node: SyntaxTreeNode) -> Lines:
    start = node.attrs.get("start")
    number = int(start) if start is not None else 1
    tight = all(p.hidden for item in node.children for p in item.children if p.type == "paragraph")
    lines: Lines = []
    for item in node.children:
        marker = "- " if node.type == "bullet_list" else f"{number}. "
        number += 1
        body = _join((_block(child) for child in item.children), blank=not tight) or [""]
        if lines and not tight:
            lines.append("")
        lines.append((marker + body[0]).rstrip())
        lines.extend(" " * len(marker) + line if line else "" for line in body[1:])
    return lines


def _rows(table: SyntaxTreeNode) -> list[SyntaxTreeNode]:
    return [row for section in table.children for row in section.children]


def _inline(node: SyntaxTreeNode) -> str:
    return (
        inline_text(node.children[0].token, urls=True)
        if node.children and node.children[0].token
        else ""
    )


def _join(blocks: object, *, blank: bool = True) -> Lines:
    """Concatenate blocks, with a blank line between them unless the list is tight."""
    lines: Lines = []
    for block in blocks:  # type: ignore[attr-defined]
        if not block:
            continue
        if lines and blank:
            lines.append("")
        lines.extend(block)
    return lines


def _html_text(html: str) -> str:
    safe = sanitize_html(html)
    if not safe.strip():
        return ""
    return " ".join(lxml.html.fromstring(f"<div>{safe}</div>").text_content().split())
