"""Client support of every HTML element, attribute and CSS feature the email uses (caniemail data).

The snapshot in newsletter/data/caniemail.json comes from the MIT-licensed npm package
`caniemail` (scripts/refresh-caniemail updates it). For each feature the latest result per
client platform counts: "n" is unsupported, "a" partial. MJML uses some features on purpose,
with fallbacks (media queries, Outlook conditionals), so templates/caniemail-accepted.txt lists
the features already accepted for the template; only new ones are reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from lxml.html import HtmlElement

from newsletter.qa.findings import Finding, Inspection

__all__ = [
    "ACCEPTED_FILE",
    "CLIENTS",
    "Support",
    "accepted",
    "client_support",
    "features_used",
    "support",
]

CLIENTS = ("gmail", "outlook", "apple-mail", "yahoo", "samsung-email")
ACCEPTED_FILE = "caniemail-accepted.txt"
_PROPERTY = re.compile(r"(?:^|[;{\s])([a-z-]+)\s*:", re.I)


@dataclass(frozen=True)
class Support:
    slug: str
    title: str
    unsupported: tuple[str, ...]
    partial: tuple[str, ...]


@cache
def _data() -> dict[str, dict[str, Any]]:
    raw = json.loads(
        files("newsletter").joinpath("data/caniemail.json").read_text(encoding="utf-8")
    )
    return {feature["slug"]: {**feature, "nicenames": raw["nicenames"]} for feature in raw["data"]}


def features_used(tree: HtmlElement) -> set[str]:
    """Slugs of the caniemail features found in the finished HTML."""
    known = _data()
    found: set[str] = set()
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        tag = "h1-h6" if re.fullmatch(r"h[1-6]", element.tag) else element.tag
        found.add(f"html-{tag}")
        found.update(f"html-{name}" for name in element.attrib)
        found.update(
            f"css-{name.lower()}" for name in _PROPERTY.findall(element.get("style") or "")
        )
        if element.tag == "style":
            css = element.text or ""
            found.update(
                f"css-{name.lower()}" for name in _PROPERTY.findall(re.sub(r"@[^{]+", "", css))
            )
            if "@media" in css:
                found.add("css-at-media")
            if "prefers-color-scheme" in css:
                found.add("css-at-media-prefers-color-scheme")
    return found & set(known)


def support(slug: str) -> Support:
    """Which of CLIENTS do not (or only partly) support a feature, as "Client (platform)"."""
    feature = _data()[slug]
    families, platforms = feature["nicenames"]["family"], feature["nicenames"]["platform"]
    unsupported, partial = [], []
    for family in CLIENTS:
        for platform, versions in feature["stats"].get(family, {}).items():
            latest = str(versions[max(versions)]) if versions else "u"
            label = f"{families.get(family, family)} ({platforms.get(platform, platform)})"
            if latest.startswith("n"):
                unsupported.append(label)
            elif latest.startswith("a"):
                partial.append(label)
    return Support(slug, feature["title"], tuple(unsupported), tuple(partial))


def accepted(templates_dir: Path) -> set[str]:
    """Feature slugs accepted for this template (one per line; # starts a comment)."""
    path = templates_dir / ACCEPTED_FILE
    if not path.exists():
        return set()
    lines: Iterable[str] = path.read_text(encoding="utf-8").splitlines()
    return {line.split("#", 1)[0].strip() for line in lines} - {""}


def client_support(i: Inspection) -> Iterator[Finding]:
    """Features some of Gmail, Outlook, Apple Mail, Yahoo and Samsung Email lack, unless accepted."""
    for slug in sorted(features_used(i.tree) - accepted(i.settings.templates_dir)):
        info = support(slug)
        if not info.unsupported and not info.partial:
            continue
        parts = [f"not supported in {', '.join(info.unsupported)}" if info.unsupported else "",
                 f"partly in {', '.join(info.partial)}" if info.partial else ""]  # fmt: skip
        yield Finding(
            "warning",
            "client-support",
            f"{info.title}: " + "; ".join(p for p in parts if p),
            slug,
            f"use a better supported alternative, or list {slug} in templates/{ACCEPTED_FILE} if a fallback covers it",
        )
