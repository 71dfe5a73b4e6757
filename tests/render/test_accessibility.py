"""axe-core, in the real Chromium the other tests use, finds no WCAG 2.1 A or AA violation in
the email, light or dark, at a phone's width and a desktop pane's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from newsletter.compose.article import read_article
from newsletter.render import render_issue
from newsletter.render.issue import RecipientFields
from tests.conftest import FIXTURES, SAMPLE_ARTICLE

FIELDS = RecipientFields("Ada", "https://news.example.com/u/T", "https://news.example.com/w")
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
"""The WCAG rules only: best-practice landmark rules (one <main>, content in regions) do not
fit an email, whose mail client supplies the page around it."""


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 600])
@pytest.mark.parametrize(
    "article", [SAMPLE_ARTICLE, FIXTURES / "articles" / "features.md"], ids=lambda p: p.stem
)
def test_axe_finds_no_wcag_violation(
    browser: Any, settings: Any, article: Path, width: int, scheme: str
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    html, _ = render_issue(read_article(article), settings).personalize(FIELDS)
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        page.set_content(html)
        results = Axe().run(page, options=WCAG)
    finally:
        page.close()
    violations = [
        (v["id"], v["impact"], [node["html"][:120] for node in v["nodes"]])
        for v in results.response["violations"]
    ]
    assert violations == []
