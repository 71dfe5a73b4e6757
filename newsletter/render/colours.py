"""Colour arithmetic for the templates and the contrast rule: WCAG relative luminance.

The email's dark mode needs the accent colour in a version readable on a dark card; the QA
rule needs the same contrast formula, so both use this one.
"""

from __future__ import annotations

import re

import webcolors

__all__ = ["DARK_CARD", "contrast", "dark_safe", "luminance", "parse_colour"]

_HEX = re.compile(r"#(?:[0-9a-f]{3}|[0-9a-f]{6})")
_RGB = re.compile(r"rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*[\d.]+%?\s*)?\)")

DARK_CARD = "#161b22"
"""The card's background in dark mode (templates/email.mjml.j2)."""


def parse_colour(value: str) -> str | None:
    """A CSS colour as #rrggbb: hex, rgb()/rgba() (alpha ignored) or a CSS name; else None
    (inherit, currentColor, var(), and anything the rule cannot judge)."""
    value = value.strip().lower()
    if _HEX.fullmatch(value):
        return str(webcolors.normalize_hex(value))
    if match := _RGB.fullmatch(value):
        red, green, blue = (min(int(n), 255) for n in match.groups())
        return str(webcolors.rgb_to_hex((red, green, blue)))
    try:
        return str(webcolors.name_to_hex(value))
    except ValueError:
        return None


def _channels(colour: str) -> list[int]:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return [int(digits[k : k + 2], 16) for k in (0, 2, 4)]


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rgb or #rrggbb colour."""
    linear = [
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
        for c in (value / 255 for value in _channels(colour))
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def dark_safe(colour: str, background: str = DARK_CARD, minimum: float = 4.5) -> str:
    """The colour, lightened toward white just enough to read on ``background``.

    Keeps the hue (a brand blue stays blue) instead of turning every link the body's grey.
    """
    red, green, blue = _channels(colour)
    for step in range(21):
        share = step / 20
        mixed = "#{:02x}{:02x}{:02x}".format(
            *(round(c + (255 - c) * share) for c in (red, green, blue))
        )
        if contrast(mixed, background) >= minimum:
            return mixed
    return "#ffffff"
