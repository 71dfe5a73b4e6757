"""The email in dark mode, as Apple Mail and other clients that honour its own rules show it:
measured in real Chromium with ``prefers-color-scheme: dark`` at a phone's width."""

from __future__ import annotations

import re
from typing import Any

import pytest

from newsletter.compose.article import read_article
from newsletter.render import render_issue
from newsletter.render.colours import contrast, dark_safe
from tests.conftest import SAMPLE_ARTICLE
from tests.render.in_browser import email_page

# Computed colours of the parts readers complained about, as #rrggbb.
PROBE = """() => {
  const hex = (c) => '#' + c.match(/\\d+/g).slice(0, 3)
      .map((n) => (+n).toString(16).padStart(2, '0')).join('');
  const style = (el) => getComputedStyle(el);
  const link = document.querySelector('.masthead a');
  const meta = document.querySelector('.meta div');
  const brand = document.querySelector('.brand div');
  const body = document.querySelector('.card div');
  const rule = document.querySelector('.divider p');
  return {
    page: hex(style(document.body).backgroundColor),
    masthead_link: hex(style(link).color),
    meta: hex(style(meta).color),
    brand: hex(style(brand).color),
    body_text: hex(style(body).color),
    divider: hex(style(rule).borderTopColor),
  };
}"""


@pytest.fixture
def dark(browser: Any, settings: Any) -> dict[str, str]:
    with email_page(browser, settings, SAMPLE_ARTICLE, 375, scheme="dark", height=3000) as page:
        return dict(page.evaluate(PROBE))


def test_the_page_behind_a_short_email_turns_dark_too(dark: dict[str, str]) -> None:
    assert dark["page"] == "#0d1117"


def test_the_view_in_browser_link_is_readable_on_the_dark_page(dark: dict[str, str]) -> None:
    assert contrast(dark["masthead_link"], "#0d1117") >= 4.5


def test_the_meta_line_stays_muted_and_the_name_keeps_a_readable_brand_colour(
    dark: dict[str, str], settings: Any
) -> None:
    assert dark["meta"] != dark["body_text"]
    assert contrast(dark["meta"], "#161b22") >= 4.5
    assert dark["brand"] == dark_safe(settings.accent_color)
    assert contrast(dark["brand"], "#161b22") >= 4.5


def test_the_divider_is_not_a_bright_line_on_dark(dark: dict[str, str]) -> None:
    assert contrast(dark["divider"], "#161b22") < 2


@pytest.mark.parametrize("colour", ["#0b5cab", "#57606a", "#000000", "#ff0000", "#ffffff"])
def test_a_dark_safe_colour_reads_on_the_dark_card(colour: str) -> None:
    assert contrast(dark_safe(colour), "#161b22") >= 4.5


def test_a_dark_safe_brand_blue_stays_blue() -> None:
    safe = dark_safe("#0b5cab")
    assert int(safe[5:7], 16) > int(safe[1:3], 16)


def test_the_preheader_is_followed_by_blank_space_not_the_mastheads_words(settings: Any) -> None:
    html = render_issue(read_article(SAMPLE_ARTICLE), settings).html
    hidden = re.search(r'<div class="preheader"[^>]*>(.*?)</div>', html, re.S)
    assert hidden is not None
    assert hidden.group(1).count("\u200c\u00a0") >= 50
