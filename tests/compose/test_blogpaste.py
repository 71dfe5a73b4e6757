"""`newsletter new --from`: a blog paste becomes Markdown with front matter for the editor."""

from __future__ import annotations

import datetime as dt

import pytest

from newsletter.compose import markdown
from newsletter.compose.article import parse_article
from newsletter.compose.blogpaste import convert_paste
from newsletter.compose.punctuation import full_width
from tests.conftest import FIXTURES

PASTES = FIXTURES / "blogpaste"
SEED = PASTES / "weekly-article-2025-09-04.txt"


def convert_seed():
    return convert_paste(SEED.read_text(encoding="utf-8"), source_name=SEED.name)


def test_the_seed_article_converts_to_the_reviewed_markdown() -> None:
    expected = (PASTES / "weekly-article-2025-09-04.expected.md").read_text(encoding="utf-8")
    assert convert_seed().markdown == expected


def test_title_author_and_date_lines_become_front_matter() -> None:
    article = parse_article(convert_seed().markdown, SEED.with_suffix(".md"))
    assert article.meta.title == "叁壹智能新聞：人工智能與區塊鏈在醫療與科研的融合應用"
    assert article.meta.author == "Dennis Lau @ Trilogies"
    assert article.meta.date == dt.date(2025, 9, 4)  # the year comes from the file name
    assert article.lang == "zh-Hant"


def test_the_blog_reading_time_is_noted_not_copied() -> None:
    markdown = convert_seed().markdown
    front = markdown.split("---")[1]
    assert "# The blog said '讀畢需時 4 分鐘'" in front
    assert "reading" not in front.replace("reading time itself", "")


def test_short_chinese_lines_without_closing_punctuation_become_headings() -> None:
    converted = convert_seed()
    assert converted.headings == (
        "醫療數據安全的AI與區塊鏈應用",
        "精準醫療的AI與區塊鏈助力",
        "科研協作的革新",
        "挑戰與倫理考量",
        "對香港的啟示",
    )
    assert "\n## 科研協作的革新\n" in converted.markdown
    assert "\n## 監管挑戰亦顯著" not in converted.markdown  # a full sentence stays a paragraph


def test_the_source_note_stays_a_note_and_page_furniture_is_dropped() -> None:
    converted = convert_seed()
    assert converted.markdown.rstrip().endswith(
        "::: note\n（本文約1100字，參考以下來源：Forbes、Healthcare IT News、Nature Medicine、"
        "World Economic Forum、Science、IEEE Transactions、MIT Technology Review、UNESCO、"
        "The Lancet等。）\n:::"
    )
    assert converted.dropped == ("留言",)
    assert "留言" not in converted.markdown


def test_an_english_paste_with_an_english_date() -> None:
    paste = (
        "Why one-click unsubscribe matters\n- Ada Editor\n- Sep 4, 2025\n- 3 min read\n\n"
        "Gmail asks every bulk sender for it. This is why.\n"
        "What the RFC says\n"
        "It needs a POST, no cookies and no redirect.\n\nShare\nComments\n"
    )
    converted = convert_paste(paste, source_name="paste.txt")
    assert converted.lang == "en"
    assert converted.date == dt.date(2025, 9, 4)
    assert converted.headings == ("What the RFC says",)
    assert converted.dropped == ("Share", "Comments")
    assert "author: Ada Editor" in converted.markdown


def test_pasted_text_stays_literal_markdown() -> None:
    paste = "Title\n- Ada\n\n# not a heading, a hashtag line.\n1. is a year, not a list.\nUse *stars* and <b>tags</b>.\n"
    article = parse_article(convert_paste(paste, source_name="x-2025-01-02.txt").markdown, SEED)
    html = markdown.body_html(markdown.parse(article.body))
    assert "<h2>" not in html and "<ol>" not in html and "<em>" not in html and "<b>" not in html
    assert "*stars*" in html and "&lt;b&gt;tags&lt;/b&gt;" in html


def test_an_empty_paste_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        convert_paste("\n\n留言\n", source_name="x.txt")


@pytest.mark.parametrize(
    ("today", "expected", "note"),
    [
        (dt.date(2026, 11, 30), dt.date(2026, 9, 4), "'9月4日' has no year; assumed 2026"),
        (dt.date(2027, 1, 10), dt.date(2026, 9, 4), "'9月4日' has no year; assumed 2026"),
    ],
)
def test_a_date_without_a_year_takes_the_nearest_year_and_says_so(
    today: dt.date, expected: dt.date, note: str
) -> None:
    paste = "標題\n- 陳編輯\n- 9月4日\n\n第一段。\n"
    converted = convert_paste(paste, source_name="paste.txt", today=today)
    assert converted.date == expected
    assert converted.date_note.startswith(note)


def test_a_year_from_the_file_name_is_named_as_the_source() -> None:
    converted = convert_seed()
    assert converted.date == dt.date(2025, 9, 4)
    assert "took 2025 from the file name" in converted.date_note


def test_a_full_date_needs_no_note() -> None:
    paste = "Title\n- Ada\n- Sep 4, 2025\n\nText.\n"
    assert convert_paste(paste, source_name="paste.txt").date_note == ""


def test_half_width_marks_in_chinese_text_become_full_width_and_are_counted() -> None:
    converted = convert_seed()
    assert converted.punctuation == 95
    assert "2025年，人工智能（AI）與區塊鏈" in converted.markdown


def test_latin_text_numbers_and_urls_keep_their_marks() -> None:
    text, changed = full_width("see (RFC 8058), then 3.5, 4: https://example.com/a?x=1,2 中文")
    assert changed == 0 and text.startswith("see (RFC 8058), then 3.5, 4: https://")


def test_the_editor_can_keep_the_punctuation_as_pasted() -> None:
    paste = "標題\n- 陳編輯\n\n人工智能(AI)與區塊鏈,很好。\n"
    kept = convert_paste(paste, source_name="x.txt", keep_punctuation=True)
    assert kept.punctuation == 0 and "人工智能(AI)與區塊鏈,很好" in kept.markdown
