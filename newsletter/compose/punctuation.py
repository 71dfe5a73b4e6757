"""Chinese punctuation: half-width marks pasted between Chinese characters, made full-width.

Blog editors often type ``,:;!?()`` on an English keyboard inside Chinese text, so one
article mixes "，" and ",". A mark is Chinese when a Chinese character touches it (for a
pair of brackets: on either side or inside); Latin text, numbers and URLs keep theirs
("3.5, 4", "https://", "(see RFC 8058)").
"""

from __future__ import annotations

import re

from newsletter.compose.reading import is_wide

__all__ = ["full_width", "mixed_marks"]

_FULL = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}
_URL = re.compile(r"(?:https?://|mailto:|www\.)\S+")


def full_width(text: str) -> tuple[str, int]:
    """The text with Chinese-context half-width marks made full-width, and how many changed."""
    chars = list(text)
    protected = {i for match in _URL.finditer(text) for i in range(*match.span())}
    changed = 0
    for index in _chinese_marks(text, protected):
        chars[index] = _FULL[text[index]]
        changed += 1
    return "".join(chars), changed


def mixed_marks(text: str) -> list[str]:
    """Each half-width mark that sits in Chinese text, with a few characters around it."""
    protected = {i for match in _URL.finditer(text) for i in range(*match.span())}
    return [text[max(0, i - 4) : i + 5] for i in _chinese_marks(text, protected)]


def _chinese_marks(text: str, protected: set[int]) -> list[int]:
    found: list[int] = []
    opened: list[int] = []
    for index, char in enumerate(text):
        if index in protected or char not in _FULL:
            continue
        before = _previous(text, index)
        if char == "(":
            opened.append(index)
        elif char == ")":
            start = opened.pop() if opened else None
            inside = text[start + 1 : index] if start is not None else ""
            after = text[index + 1 : index + 2]
            if start is not None and (
                is_wide(_previous(text, start)) or is_wide(after) or any(map(is_wide, inside))
            ):
                found += [start, index]
        elif is_wide(before) or is_wide(text[index + 1 : index + 2]):
            found.append(index)
    return sorted(found)


def _previous(text: str, index: int) -> str:
    return text[index - 1] if index > 0 else ""
