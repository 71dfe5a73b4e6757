"""Language tags as readers give them, and which edition of an issue each reader gets.

Readers write ``zh-CN``, ``zh_tw``, ``zh-Hant-HK`` or ``EN-gb``; editions are named by the
script or language they are written in (``zh-Hant``, ``zh-Hans``, ``en``). Chinese region tags
name a script by convention (mainland China, Singapore and Malaysia write Simplified; Taiwan,
Hong Kong and Macau write Traditional), so they are stored as the script tag the editions use.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

__all__ = ["NAMES", "SCRIPT_OF_REGION", "canonical", "edition_for", "name_of"]

SCRIPT_OF_REGION = {"CN": "Hans", "SG": "Hans", "MY": "Hans", "TW": "Hant", "HK": "Hant", "MO": "Hant"}  # fmt: skip
"""Chinese region subtags and the script their readers read."""


NAMES = {"zh-Hant": "繁體中文", "zh-Hans": "简体中文", "en": "English"}
"""Each edition's name in its own script: what a reader looks for in a list of links."""


def name_of(tag: str) -> str:
    return NAMES.get(tag, tag)


@functools.lru_cache(maxsize=1024)
def canonical(tag: str) -> str:
    """The tag in the case BCP 47 recommends, with Chinese regions read as their script.

    Cached: an import asks for the same few tags a hundred thousand times."""
    parts = [part for part in tag.replace("_", "-").split("-") if part]
    if not parts:
        return tag
    language, rest = parts[0].lower(), parts[1:]
    script = next((p.title() for p in rest if len(p) == 4 and p.isalpha()), None)
    region = next((p.upper() for p in rest if len(p) == 2 or (len(p) == 3 and p.isdigit())), None)
    if language == "zh" and (script or region in SCRIPT_OF_REGION):
        return f"zh-{script or SCRIPT_OF_REGION[region or '']}"
    cased = [language] + [
        p.title() if len(p) == 4 and p.isalpha() else p.upper() if len(p) == 2 else p.lower()
        for p in rest
    ]
    return "-".join(cased)


def edition_for(lang: str | None, editions: Sequence[str]) -> str:
    """The edition a reader gets: theirs, else one in their language, else the original (first).

    ``en-GB`` reads the ``en`` edition; ``zh`` alone names no script and gets the original.
    """
    original = editions[0]
    if not lang or len(editions) == 1:
        return original
    tag = canonical(lang)
    if tag in editions:
        return tag
    language = tag.split("-")[0]
    return next((e for e in editions if e == language), original)
