"""The finished email opened in the tests' Chromium, as a reader's client would show it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from newsletter.compose.article import read_article
from newsletter.render import render_issue
from newsletter.render.issue import RecipientFields

FIELDS = RecipientFields("Ada", "https://news.example.com/u/T", "https://news.example.com/w")


@contextmanager
def email_page(
    browser: Any,
    settings: Any,
    article: Path,
    width: int,
    *,
    scheme: str = "light",
    height: int = 900,
) -> Iterator[Any]:
    """A page holding the article's email for a reader, closed afterwards."""
    html, _ = render_issue(read_article(article), settings).personalize(FIELDS)
    page = browser.new_page(viewport={"width": width, "height": height}, color_scheme=scheme)
    try:
        page.set_content(html)
        yield page
    finally:
        page.close()
