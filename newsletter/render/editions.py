"""Editions: one issue rendered once per edition, never per reader.

A reader's language picks their edition (newsletter.languages.edition_for); a reader whose
language has none gets the original. Each edition is a whole RenderedIssue, with its own
lang attribute, font stack, subject and web version.
"""

from __future__ import annotations

from newsletter.compose.editions import SIMPLIFIED, ArticleEditions
from newsletter.config import Settings
from newsletter.render import render_issue
from newsletter.render.issue import Editions, RenderedIssue

__all__ = ["Editions", "render_editions"]


def render_editions(editions: ArticleEditions, settings: Settings) -> Editions:
    """Render each edition once; the converted one also prints the newsletter's name converted."""
    renders: dict[str, RenderedIssue] = {}
    for lang, article in editions.articles.items():
        if not renders:
            renders[lang] = render_issue(article, settings)
            continue
        own = settings
        if lang == SIMPLIFIED and editions.converter is not None:
            convert = editions.converter.text
            own = settings.model_copy(
                update={
                    "newsletter_name": convert(settings.newsletter_name),
                    "logo_alt": convert(settings.logo_alt) if settings.logo_alt else None,
                }
            )
        renders[lang] = render_issue(article, own, edition=lang)
    return Editions(renders)
