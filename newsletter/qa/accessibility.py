"""Accessibility rules: structure a screen reader can follow, text large and contrasted enough."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from lxml.html import HtmlElement

from newsletter.qa.findings import Finding, Inspection
from newsletter.render.colours import contrast, parse_colour

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
    yield from _dark_contrast(i)


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
        colour = parse_colour(_inherited(element, r"(?<![-\w])color:\s*([^;!]+)") or "")
        if not colour:
            continue
        background = _background(element)
        ratio = contrast(colour, background)
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
        css = re.search(r"background(?:-color)?:\s*([^;!]+)", _style(e))
        if css and (colour := parse_colour(css.group(1))):
            return colour
        if colour := parse_colour(e.get("bgcolor") or ""):
            return colour
    return "#ffffff"


_DARK_BLOCK = re.compile(
    r"@media[^{]*prefers-color-scheme:\s*dark[^{]*\{((?:[^{}]*\{[^{}]*\})*)[^{}]*\}"
)
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")


def _dark_contrast(i: Inspection) -> Iterator[Finding]:
    """The email's own dark rules: every text colour they set against the dark page and card."""
    styles = " ".join(s.text or "" for s in i.tree.iter("style"))
    backgrounds: set[str] = set()
    colours: dict[str, str] = {}
    for block in _DARK_BLOCK.findall(styles):
        for selectors, body in _RULE.findall(block):
            declared = dict(_declarations(body))
            surface = any(name in selectors for name in ("body", ".page", ".card"))
            if surface and (background := parse_colour(declared.get("background-color", ""))):
                backgrounds.add(background)
            if colour := parse_colour(declared.get("color", "")):
                colours.setdefault(colour, selectors.strip())
    for colour, selectors in colours.items():
        for background in sorted(backgrounds):
            ratio = contrast(colour, background)
            if ratio < MIN_CONTRAST:
                yield Finding(
                    "error",
                    "contrast-dark",
                    f"in dark mode, {selectors} text {colour} on {background} has contrast "
                    f"{ratio:.1f}:1, under {MIN_CONTRAST}:1 (WCAG AA)",
                    "templates/email.mjml.j2 (prefers-color-scheme: dark)",
                    "lighten the text colour of that dark rule",
                )


def _declarations(body: str) -> Iterator[tuple[str, str]]:
    for declaration in body.split(";"):
        name, _, value = declaration.partition(":")
        yield name.strip().lower(), value.replace("!important", "").strip()
