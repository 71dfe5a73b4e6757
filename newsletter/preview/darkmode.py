"""Dark mode as readers see it, for the preview and screenshots.

Two kinds exist in the wild: clients that honour the email's own
``@media (prefers-color-scheme: dark)`` rules (Apple Mail, Outlook for Mac), and clients that
ignore them and recolour the message themselves (Gmail's apps, Outlook.com and Outlook for
Windows): light backgrounds turn dark, dark text turns light, hues are kept. ``own_dark``
shows the first, ``forced_dark`` imitates the second.
"""

from __future__ import annotations

import colorsys
import re

__all__ = ["forced_dark", "own_dark"]

_DARK_MEDIA = re.compile(r"@media[^{]*prefers-color-scheme\s*:\s*dark[^{]*\{", re.IGNORECASE)
_LIGHT_MEDIA = re.compile(r"@media[^{]*prefers-color-scheme\s*:\s*light[^{]*\{", re.IGNORECASE)
_DECLARATION = re.compile(
    r"(?P<prop>(?<![-\w])(?:color|background(?:-color)?|border(?:-(?:top|right|bottom|left))?(?:-color)?))"
    r"(?P<sep>\s*:\s*)(?P<value>[^;}\"']+)",
    re.IGNORECASE,
)
_COLOUR_ATTR = re.compile(
    r"(?P<attr>\b(?:bgcolor|color))=(?P<q>[\"'])(?P<value>[^\"']*)(?P=q)", re.I
)
_COLOUR = re.compile(r"#(?:[0-9a-f]{6}|[0-9a-f]{3})\b|rgba?\([^)]*\)|\b(?:white|black)\b", re.I)
_NAMED = {"white": (255, 255, 255), "black": (0, 0, 0)}
_FORCED_BASE = (
    "<style>html,body{background-color:#121212 !important;color:#e3e3e3 !important}</style>"
)


def own_dark(html: str) -> str:
    """The email with its own dark rules applied unconditionally and its light-only rules dropped."""
    return _rewrite_blocks(_rewrite_blocks(html, _DARK_MEDIA, keep=True), _LIGHT_MEDIA, keep=False)


def forced_dark(html: str) -> str:
    """The email recoloured the way Gmail's apps and Outlook do it, ignoring its dark rules."""
    html = _rewrite_blocks(html, _DARK_MEDIA, keep=False)
    html = _DECLARATION.sub(_recolour_declaration, html)
    html = _COLOUR_ATTR.sub(_recolour_attribute, html)
    head = re.search(r"<head[^>]*>", html, re.IGNORECASE)
    at = head.end() if head else 0
    return html[:at] + _FORCED_BASE + html[at:]


def _rewrite_blocks(html: str, opening: re.Pattern[str], *, keep: bool) -> str:
    """Replace each matching @media block by its contents (keep) or by nothing."""
    out: list[str] = []
    position = 0
    for match in opening.finditer(html):
        if match.start() < position:
            continue
        end = _closing_brace(html, match.end())
        out.append(html[position : match.start()])
        if keep:
            out.append(html[match.end() : end])
        position = end + 1
    out.append(html[position:])
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return len(text) - 1


def _recolour_declaration(match: re.Match[str]) -> str:
    background = match["prop"].lower() != "color"
    value = _COLOUR.sub(lambda c: _recolour(c.group(), background=background), match["value"])
    return f"{match['prop']}{match['sep']}{value}"


def _recolour_attribute(match: re.Match[str]) -> str:
    background = match["attr"].lower() == "bgcolor"
    value = _COLOUR.sub(lambda c: _recolour(c.group(), background=background), match["value"])
    return f"{match['attr']}={match['q']}{value}{match['q']}"


def _recolour(colour: str, *, background: bool) -> str:
    """Light backgrounds go dark and dark text goes light, keeping the hue; others stay."""
    rgb = _parse(colour)
    if rgb is None:
        return colour
    hue, lightness, saturation = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    if background and lightness > 0.5:
        lightness = max(0.07, 1 - lightness)
    elif not background and lightness < 0.5:
        lightness = min(0.9, 1 - lightness)
    else:
        return colour
    r, g, b = colorsys.hls_to_rgb(hue, lightness, saturation)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def _parse(colour: str) -> tuple[int, int, int] | None:
    colour = colour.lower()
    if colour in _NAMED:
        return _NAMED[colour]
    if colour.startswith("#"):
        digits = colour[1:]
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)
    numbers = re.findall(r"[\d.]+", colour)
    if len(numbers) < 3:
        return None
    return tuple(min(255, round(float(n))) for n in numbers[:3])  # type: ignore[return-value]
