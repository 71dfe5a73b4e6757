"""Accessibility rules: structure a screen reader can follow, text large and contrasted enough."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from lxml.html import HtmlElement

from newsletter.qa.findings import Finding, Inspection

__all__ = ["MIN_CONTRAST", "MIN_FONT_PX", "accessibility"]

MIN_CONTRAST = 4.5


MIN_FONT_PX = 14


def accessibility(i: Inspection) -> Iterator[Finding]:
    lang = i.tree.get("lang")
    if lang != i.article.lang:
        yield Finding(
            "error",
            "lang",
            f'<html lang="{lang}"> but the article is {i.article.lang}',
            "templates/email.mjml.j2",
            'keep <mjml lang="{{ lang }}">',
        )
    levels = [int(h.tag[1]) for h in i.tree.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    if levels.count(1) != 1:
        yield Finding(
            "error",
            "h1",
            f"{levels.count(1)} h1 headings; a page needs exactly one (the title)",
            "email.html",
            "use ## for sections in the article",
        )
    for before, after in itertools.pairwise(levels):
        if after > before + 1:
            yield Finding(
                "warning",
                "heading-skip",
                f"heading level jumps from h{before} to h{after}",
                "article headings",
                "do not skip a level (## then ###)",
            )
            break
    for table in i.tree.iter("table"):
        if table.get("role") != "presentation" and not table.findall(".//th"):
            yield Finding(
                "warning",
                "table-role",
                'a layout table without role="presentation"',
                "email.html",
                'add role="presentation", or th cells for a data table',
            )
    yield from _contrast_and_size(i)


def _contrast_and_size(i: Inspection) -> Iterator[Finding]:
    """Every element with text of its own, with the colour, background and size it inherits."""
    seen: set[tuple[str, str]] = set()
    for element in i.tree.iter():
        if not isinstance(element.tag, str) or not (element.text or "").strip() or _hidden(element):
            continue
        size_px = _inherited(element, r"font-size:\s*(\d+(?:\.\d+)?)px")
        if size_px and float(size_px) < MIN_FONT_PX and ("size", size_px) not in seen:
            seen.add(("size", size_px))
            yield Finding(
                "warning",
                "font-size",
                f"{size_px}px text in <{element.tag}>; {MIN_FONT_PX}px is the least comfortable size",
                "templates/email.mjml.j2",
                f"use at least {MIN_FONT_PX}px",
            )
        colour = _inherited(element, r"(?<![-\w])color:\s*(#[0-9a-f]{3,6})\b")
        if not colour:
            continue
        background = _background(element)
        ratio = _contrast(colour, background)
        if ratio < MIN_CONTRAST and (colour, background) not in seen:
            seen.add((colour, background))
            yield Finding(
                "error",
                "contrast",
                f"text {colour} on {background} has contrast {ratio:.1f}:1, under {MIN_CONTRAST}:1 (WCAG AA)",
                "templates/email.mjml.j2 or accent_color",
                "darken the text or lighten the background",
            )


def _inherited(element: HtmlElement, pattern: str) -> str | None:
    for e in (element, *element.iterancestors()):
        if match := re.search(pattern, _style(e)):
            return match.group(1)
    return None


def _style(element: HtmlElement) -> str:
    return (element.get("style") or "").lower()


def _hidden(element: HtmlElement) -> bool:
    return any(
        "display:none" in _style(e).replace(" ", "") for e in (element, *element.iterancestors())
    )


def _background(element: HtmlElement) -> str:
    """The nearest background colour, from CSS or an old bgcolor attribute; white by default."""
    for e in (element, *element.iterancestors()):
        if css := re.search(r"background(?:-color)?:\s*(#[0-9a-f]{3,6})\b", _style(e)):
            return css.group(1)
        if re.fullmatch(r"#[0-9a-fA-F]{3,6}", e.get("bgcolor") or ""):
            return str(e.get("bgcolor")).lower()
    return "#ffffff"


def _luminance(colour: str) -> float:
    hex_digits = colour.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    channels = [int(hex_digits[k : k + 2], 16) / 255 for k in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
