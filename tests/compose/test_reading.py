"""Reading time is computed, CJK-aware, and printed in the article's language."""

from __future__ import annotations

from newsletter.compose.article import read_article
from newsletter.compose.locales import load_locales
from newsletter.compose.reading import count_text, reading_minutes
from newsletter.render import render_issue
from tests.conftest import REPO, SAMPLE_ARTICLE


def test_cjk_characters_and_words_are_counted_separately() -> None:
    assert count_text("AI與區塊鏈 in healthcare, 2025年。") == (4, 5)


def test_a_thousand_words_of_english_read_in_four_minutes() -> None:
    assert reading_minutes("word " * 1000) == 4


def test_two_thousand_chinese_characters_read_in_five_minutes() -> None:
    assert reading_minutes("醫" * 2000) == 5


def test_a_short_note_still_takes_a_minute() -> None:
    assert reading_minutes("Hi.") == 1


def test_the_sample_reads_in_four_minutes_printed_in_chinese(settings) -> None:
    issue = render_issue(read_article(SAMPLE_ARTICLE), settings)
    assert issue.reading_minutes == 4
    assert "讀畢需時 4 分鐘" in issue.text
    assert "讀畢需時 4 分鐘" in issue.html


def test_reading_time_is_printed_in_english_for_english_articles(settings, write_article) -> None:
    issue = render_issue(read_article(write_article("word " * 700)), settings)
    assert "3 min read" in issue.text


def test_every_language_has_every_fixed_string() -> None:
    locales = load_locales(REPO / "templates")
    assert {"en", "zh-Hant"} <= set(locales)
    zh = locales["zh-Hant"]
    assert (zh.view_in_browser, zh.unsubscribe) == ("在瀏覽器中查看", "取消訂閱")
    assert locales["en"].format_reading_time(4) == "4 min read"
    assert zh.format_reading_time(4) == "讀畢需時 4 分鐘"
