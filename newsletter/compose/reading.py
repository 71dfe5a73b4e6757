"""Measuring text the way readers read it: CJK by character, everything else by word."""

from __future__ import annotations

import math
import re
import unicodedata

__all__ = [
    "CJK_CHARS_PER_MINUTE",
    "WORDS_PER_MINUTE",
    "count_text",
    "display_width",
    "is_wide",
    "reading_minutes",
]

WORDS_PER_MINUTE = 230
"""Adult silent reading of English non-fiction (Brysbaert 2019 meta-analysis: 238)."""
CJK_CHARS_PER_MINUTE = 400
"""Silent reading of Chinese text, a middle value of the 300-500 characters/minute reported."""

_CJK = (
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # ideographs
    "\u3040-\u30ff\uac00-\ud7af"  # kana, hangul
    "\U00020000-\U0002ffff"  # ideograph extensions
)
_CJK_CHAR = re.compile(f"[{_CJK}]")
_WORD = re.compile(rf"[^\s{_CJK}\u3000-\u303f\uff00-\uffef]+")


def count_text(text: str) -> tuple[int, int]:
    """Return (words, CJK characters) in text; punctuation alone is not a word."""
    cjk = len(_CJK_CHAR.findall(text))
    words = sum(1 for w in _WORD.findall(text) if any(c.isalnum() for c in w))
    return words, cjk


def reading_minutes(text: str) -> int:
    """Whole minutes, rounded to the nearest, at least one."""
    words, cjk = count_text(text)
    return max(1, math.floor(words / WORDS_PER_MINUTE + cjk / CJK_CHARS_PER_MINUTE + 0.5))


def is_wide(char: str) -> bool:
    """A character that takes two columns (CJK and full-width forms); False for ""."""
    return bool(char) and unicodedata.east_asian_width(char) in "WF"


def display_width(text: str) -> int:
    """Columns a string takes in a terminal or an inbox list: wide (CJK) characters count double."""
    return sum(2 if is_wide(c) else 1 for c in text)
