"""Findings on the zh-Hans conversion: where it reads differently from what an editor reviewed."""

from __future__ import annotations

from collections.abc import Iterator

from newsletter.compose.editions import EDITIONS_FILE, SIMPLIFIED, ArticleEditions
from newsletter.compose.script import Reading
from newsletter.qa.findings import Finding

__all__ = ["reading_findings", "to_review"]


def to_review(articles: ArticleEditions) -> tuple[Reading, ...]:
    """The places the conversion chose between readings, but those the reviewed list covers."""
    if articles.conversion is None:
        return ()
    reviewed = articles.rules.reviewed.items()
    return tuple(
        r
        for r in articles.conversion.readings
        if not any(phrase in r.source and reading in r.reading for phrase, reading in reviewed)
    )


def reading_findings(articles: ArticleEditions) -> list[Finding]:
    """A warning for each place a reviewed phrase reads otherwise in the zh-Hans edition."""
    return list(_differing(articles))


def _differing(articles: ArticleEditions) -> Iterator[Finding]:
    conversion = articles.conversion
    if conversion is None:
        return
    path = articles.original.path
    for phrase, expected in articles.rules.reviewed.items():
        for line, reading in conversion.readings_of(phrase):
            if reading == expected:
                continue
            yield Finding(
                "warning",
                "edition-reading",
                f"the {SIMPLIFIED} edition reads {phrase} as {reading}, "
                f"but the reviewed list in {EDITIONS_FILE} says {expected}",
                where=f"{path.name}:{line}",
                fix=f'add "{phrase}" = "{expected}" to [{SIMPLIFIED}.phrases] in '
                f"templates/{EDITIONS_FILE} (or the article's front matter phrases), or "
                "correct the reviewed reading",
            )
