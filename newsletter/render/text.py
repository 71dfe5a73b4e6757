"""Stage 4: the plain-text part, written from the article's Markdown tree, not scraped from HTML.

Paragraphs wrap at 72 columns, CJK characters counting two, between words or between CJK
characters but never inside a URL or before closing punctuation. Headings are underlined to
their display width; list items keep their markers and indent everything they contain under
the marker; quotes prefix every line, blank ones too; links read ``label (URL)``, images
``[alt]``; tables are aligned columns under a rule, or one ``label: value`` line per cell
when they are too wide; code is indented four spaces and never wrapped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import lxml.html
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

from newsletter.compose.markdown import inline_text
from newsletter.compose.reading import display_width, is_wide
from newsletter.compose.sanitize import sanitize_html

__all__ = ["WIDTH", "body_text", "wrap"]

Lines = list[str]

WIDTH = 72
"""Columns of a plain-text line: what mail clients and terminals show without rewrapping."""
_URL = re.compile(r"(?:https?://|mailto:)\S+")
_CLOSING = set("，。、；：！？）」』》〉】〕…%％,.;:!?)]}'\"")
"""Never at the start of a line: kept with what comes before."""
_OPENING = set("（「『《〈【〔([{")
_BLOCK_END = re.compile(r"</(?:p|div|h[1-6]|li|blockquote|table|tr|ul|ol)>", re.I)
"""Never at the end of a line: kept with what comes after."""


def body_text(tokens: Sequence[Token]) -> str:
    """The article body as plain text, blocks separated by one blank line."""
    nodes = SyntaxTreeNode(list(tokens)).children
    return "\n".join(_join(_block(node, WIDTH) for node in nodes))


def wrap(text: str, width: int = WIDTH) -> Lines:
    """Greedy line filling by display width; a unit wider than the line stands alone."""
    lines: Lines = []
    line, used = "", 0
    for unit, spaced in _units(text):
        gap = 1 if spaced and line else 0
        size = display_width(unit)
        if line and used + gap + size > width:
            lines.append(line)
            line, used = unit, size
        else:
            line += " " * gap + unit
            used += gap + size
    return [*lines, line] if line else lines


def _units(text: str) -> Iterator[tuple[str, bool]]:
    """What a line may not break inside, and whether a space comes before it."""
    for word in text.split():
        if _URL.match(word):
            yield word, True
            continue
        pieces: list[str] = []
        for char in word:
            previous = pieces[-1] if pieces else ""
            if previous and (
                char in _CLOSING
                or previous[-1] in _OPENING
                or not (is_wide(char) or is_wide(previous[-1]))
            ):
                pieces[-1] += char
            else:
                pieces.append(char)
        yield from ((piece, index == 0) for index, piece in enumerate(pieces))


def _block(node: SyntaxTreeNode, width: int) -> Lines:
    kind = node.type
    if kind == "paragraph":
        return [line for part in _inline(node).split("\n") for line in wrap(part, width) or [""]]
    if kind == "heading":
        title = _inline(node)
        return [title, ("=" if node.tag == "h2" else "-") * display_width(title)]
    if kind in ("bullet_list", "ordered_list"):
        return _list(node, width)
    if kind == "blockquote":
        quoted = _join(_block(child, width - 2) for child in node.children)
        return [f"> {line}" if line else ">" for line in quoted]
    if kind in ("fence", "code_block"):
        return ["    " + line for line in node.content.rstrip("\n").split("\n")]
    if kind == "hr":
        return ["* * *"]
    if kind == "table":
        return _table([[_inline(cell) for cell in row.children] for row in _rows(node)], width)
    if kind == "html_block":
        return _join(
            [line for line in wrap(paragraph, width)] for paragraph in _html_text(node.content)
        )
    return _join(_block(child, width) for child in node.children)


def _table(rows: list[list[str]], width: int) -> Lines:
    """Aligned columns under a rule when they fit; else each row as ``header: cell`` lines."""
    if not rows:
        return []
    columns = max(len(row) for row in rows)
    cells = [row + [""] * (columns - len(row)) for row in rows]
    widths = [max(display_width(row[i]) for row in cells) for i in range(columns)]
    if sum(widths) + 2 * (columns - 1) <= width:
        lines = ["  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip()
                 for row in cells]  # fmt: skip
        lines.insert(1, "  ".join("-" * w for w in widths))
        return lines
    header, *body = cells
    records = [
        [line for label, cell in zip(header, row, strict=True) if cell
         for line in wrap(f"{label}: {cell}" if label else cell, width)]
        for row in body
    ]  # fmt: skip
    return _join(records)


def _pad(cell: str, width: int) -> str:
    return cell + " " * (width - display_width(cell))


def _list(node: SyntaxTreeNode, width: int) -> Lines:
    start = node.attrs.get("start")
    number = int(start) if start is not None else 1
    tight = all(p.hidden for item in node.children for p in item.children if p.type == "paragraph")
    lines: Lines = []
    for item in node.children:
        marker = "- " if node.type == "bullet_list" else f"{number}. "
        number += 1
        inner = width - len(marker)
        body = _join((_block(child, inner) for child in item.children), blank=not tight) or [""]
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


def _html_text(html: str) -> list[str]:
    """Raw HTML's text, one paragraph per block element, so two blocks never run together."""
    safe = _BLOCK_END.sub(lambda end: end.group(0) + "\n\n", sanitize_html(html))
    if not safe.strip():
        return []
    tree = lxml.html.fromstring(f"<div>{safe}</div>")
    for link in tree.iter("a"):  # as Markdown links read: "label (URL)"
        href = link.get("href")
        if href and href != link.text_content().strip():
            link.tail = f" ({href}){link.tail or ''}"
    text = tree.text_content()
    return [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]
