"""The preview's inbox row shows what an inbox shows: the preheader, then blank space."""

from __future__ import annotations

from typing import Any

import pytest

from newsletter.compose.article import read_article
from newsletter.preview.inbox import snippet
from newsletter.render import render_issue
from tests.conftest import FIXTURES, SAMPLE_ARTICLE


@pytest.mark.parametrize(
    "article", [SAMPLE_ARTICLE, FIXTURES / "articles" / "english.md"], ids=lambda p: p.stem
)
def test_the_row_after_the_subject_is_the_preheader_and_nothing_of_the_masthead(
    settings: Any, article: Any
) -> None:
    issue = render_issue(read_article(article), settings)
    row = snippet(issue.html)
    assert row.startswith(issue.preheader)
    assert row[len(issue.preheader) :].strip("\u00a0 ") == ""


def test_without_a_spacer_the_row_runs_on_into_the_body() -> None:
    html = "<html><body><div style='display:none'>Short preheader</div><p>View in browser</p></body></html>"
    assert snippet(html) == "Short preheader View in browser"
