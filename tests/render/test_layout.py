"""The email laid out in real Chromium at phone and desktop widths: nothing scrolls sideways,
and phrases that must stay whole (each meta item, each part of the address) do."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import FIXTURES, SAMPLE_ARTICLE
from tests.render.in_browser import email_page

WHOLE = """() => [...document.querySelectorAll('span[style*="nowrap"]')]
    .map((span) => [span.textContent, span.getClientRects().length])"""


@pytest.mark.parametrize("width", [320, 375, 600])
@pytest.mark.parametrize(
    "article",
    [SAMPLE_ARTICLE, FIXTURES / "articles" / "rich.md", FIXTURES / "articles" / "features.md"],
    ids=lambda p: p.stem,
)
def test_nothing_scrolls_sideways(browser: Any, settings: Any, article: Any, width: int) -> None:
    with email_page(browser, settings, article, width) as page:
        assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [320, 375])
def test_meta_items_and_address_parts_never_break_inside(
    browser: Any, settings: Any, width: int
) -> None:
    with email_page(browser, settings, SAMPLE_ARTICLE, width) as page:
        whole = page.evaluate(WHOLE)
    texts = [text for text, _ in whole]
    assert "讀畢需時 4 分鐘" in texts and "Hong Kong" in texts
    assert [text for text, lines in whole if lines != 1] == []


LINES = """(selector) => [...document.querySelectorAll(selector)].map((el) => {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const perLine = new Map();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const box = range.getBoundingClientRect();
      if (box.width) perLine.set(Math.round(box.top), (perLine.get(Math.round(box.top)) || 0) + 1);
    }
  }
  return [...perLine.entries()].sort((a, b) => a[0] - b[0]).map((entry) => entry[1]);
})"""


@pytest.mark.parametrize("width", [320, 375])
def test_titles_and_headings_break_into_balanced_lines_not_a_lonely_last_one(
    browser: Any, settings: Any, width: int
) -> None:
    with email_page(browser, settings, SAMPLE_ARTICLE, width) as page:
        headings = page.evaluate(LINES, "h1, .article h2")
    assert any(len(lines) > 1 for lines in headings)  # the title wraps at these widths
    lonely = [lines for lines in headings if len(lines) > 1 and lines[-1] < lines[0] / 2]
    assert lonely == []
