"""Who a message is for: the name a greeting uses and the key that names a subscriber.

Below the list and the renderer alike: the store validates names with these rules, the
message builder greets with them, and links and provider events carry the key.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "NAME_LIMIT",
    "first_name_for",
    "first_name_of",
    "greeting_name",
    "name_problem",
    "subscriber_id_of",
]


NAME_LIMIT = 200
"""Longest name a subscriber may have: longer is junk, breaks provider limits (SendGrid takes
10,000 bytes of substitutions per reader) and cannot fit a mail header line."""


def name_problem(name: str | None) -> str | None:
    """Why a name cannot be stored, or None when it can."""
    if name is not None and len(name) > NAME_LIMIT:
        return f"name is {len(name):,} characters; at most {NAME_LIMIT}"
    return None


def first_name_of(name: str | None) -> str | None:
    """The name a greeting uses: "Ada Lovelace" -> "Ada", "Lovelace, Ada" -> "Ada", "陳大文" stays."""
    if not name or not name.strip():
        return None
    family, comma, given = name.partition(",")
    words = (given if comma and given.strip() else family).split()
    return words[0] if words else None


def first_name_for(name: str | None, attributes: dict[str, Any]) -> str | None:
    """An explicit ``first_name`` attribute wins over the one read from the full name."""
    explicit = attributes.get("first_name")
    return greeting_name(name, explicit if isinstance(explicit, str) else None)


def greeting_name(name: str | None, explicit: str | None) -> str | None:
    """first_name_for with the attribute already read (the journal reads only that one)."""
    if explicit and not explicit.isspace():
        return explicit.strip()
    return first_name_of(name)


def subscriber_id_of(key: object) -> int | None:
    """The subscriber a recipient key names: campaign sends use the id, test sends other keys."""
    if isinstance(key, str) and key.isascii() and key.isdigit() and len(key) < 19:
        return int(key)
    return None
