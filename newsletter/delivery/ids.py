"""Opaque ids for issues and campaigns: short, sortable by creation time, safe in URLs and file names.

A prefix letter says what it names (``i`` issue, ``c`` campaign), then the creation second in
7 Crockford base32 digits (good until the year 3059), then 25 random bits. Nothing in an id is
derived from a slug, a filter or a file path, so editing an article never changes one, and two
segments can never collide the way "香港" and "台灣" did when ids were made from their text.
"""

from __future__ import annotations

import datetime as dt
import secrets

__all__ = ["new_id"]

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_TIME_DIGITS = 7
_RANDOM_DIGITS = 5


def new_id(prefix: str, at: dt.datetime | None = None) -> str:
    """A fresh id such as ``c1ksa2x8m4q0z``: prefix, creation second, randomness."""
    seconds = int((at or dt.datetime.now(dt.UTC)).timestamp())
    return prefix + _digits(seconds, _TIME_DIGITS) + _digits(secrets.randbits(25), _RANDOM_DIGITS)


def _digits(value: int, width: int) -> str:
    out = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        out.append(_ALPHABET[digit])
    return "".join(reversed(out))
