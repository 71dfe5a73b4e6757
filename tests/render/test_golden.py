"""Golden files: the rendered sample must not change unless someone meant it to.

Regenerate after an intended change to templates or rendering, then review the diff:

    UPDATE_GOLDEN=1 python -m pytest tests/render/test_golden.py
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from newsletter.compose.article import read_article
from newsletter.render import render_issue
from tests.conftest import FIXTURES, SAMPLE_ARTICLE

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
CASES = [SAMPLE_ARTICLE, FIXTURES / "articles" / "english.md"]


@pytest.mark.parametrize("article", CASES, ids=lambda p: p.stem)
@pytest.mark.parametrize("part", ["html", "txt"])
def test_rendered_issue_matches_the_golden_file(article: Path, part: str, settings) -> None:
    issue = render_issue(read_article(article), settings)
    actual = issue.html if part == "html" else issue.text
    golden = GOLDEN / f"{article.stem}.{part}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(actual, encoding="utf-8")
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(), actual.splitlines(), str(golden), "rendered", lineterm="", n=1
        )
        pytest.fail("rendered output differs from the golden file:\n" + "\n".join(list(diff)[:60]))
