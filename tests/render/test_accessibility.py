"""axe-core, in the real Chromium the other tests use, finds no WCAG 2.1 A or AA violation in
the email, light or dark, at a phone's width and a desktop pane's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, SAMPLE_ARTICLE
from tests.render.in_browser import email_page

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

    with email_page(browser, settings, article, width, scheme=scheme) as page:
        results = Axe().run(page, options=WCAG)
    violations = [
        (v["id"], v["impact"], [node["html"][:120] for node in v["nodes"]])
        for v in results.response["violations"]
    ]
    assert violations == []
