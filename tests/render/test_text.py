"""The plain-text part reads well on its own: written from the Markdown, never scraped."""

from __future__ import annotations

from newsletter.compose import markdown
from newsletter.compose.article import read_article
from newsletter.compose.reading import display_width
from newsletter.render import render_issue
from newsletter.render.issue import RecipientFields
from newsletter.render.text import body_text
from tests.conftest import FIXTURES, SAMPLE_ARTICLE


def text_of(source: str) -> str:
    return body_text(markdown.parse(source))


def test_headings_are_underlined_to_their_display_width() -> None:
    assert text_of("## 科研協作的革新\n\nx") == "科研協作的革新\n==============\n\nx"
    assert text_of("## A\n\n### Sub part") == "A\n=\n\nSub part\n--------"


def test_links_become_text_with_the_url() -> None:
    assert text_of("See [the RFC](https://www.rfc-editor.org/rfc/rfc8058).") == (
        "See the RFC (https://www.rfc-editor.org/rfc/rfc8058)."
    )
    assert text_of("<https://example.com>") == "https://example.com"


def test_lists_keep_their_markers_and_nest_under_them() -> None:
    assert text_of("Intro:\n\n- one\n- two\n  - nested\n    - deeper\n\n0. zero\n1. one") == (
        "Intro:\n\n- one\n- two\n  - nested\n    - deeper\n\n0. zero\n1. one"
    )


def test_everything_inside_a_loose_item_is_indented_under_its_marker() -> None:
    source = "1. first\n\n   second paragraph\n\n   ```\n   code\n   ```\n\n   > quoted\n2. next"
    assert text_of(source) == (
        "1. first\n\n   second paragraph\n\n       code\n\n   > quoted\n\n2. next"
    )


def test_an_item_that_starts_with_code_keeps_its_marker() -> None:
    assert text_of("- ```\n  x = 1\n  ```") == "-     x = 1"


def test_a_quote_of_several_paragraphs_stays_one_quote() -> None:
    assert text_of("> one\n>\n> two") == "> one\n>\n> two"


def test_raw_html_links_keep_their_url() -> None:
    assert text_of('See <a href="https://example.com/raw">raw link</a> now.') == (
        "See raw link (https://example.com/raw) now."
    )


def test_tables_code_quotes_and_images() -> None:
    source = "| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nx = 1\n```\n\n> quoted\n\n![A chart](https://example.com/c.png)"
    assert text_of(source) == "a  b\n-  -\n1  2\n\n    x = 1\n\n> quoted\n\n[A chart]"


def test_raw_html_contributes_its_text_only() -> None:
    assert text_of("<div>Hello <b>there</b></div>\n\n<script>evil()</script>") == "Hello there"


def test_the_whole_text_part_has_no_markup_and_carries_the_footer(settings) -> None:
    issue = render_issue(read_article(FIXTURES / "articles" / "rich.md"), settings)
    _, text = issue.personalize(
        RecipientFields("Ada", "https://news.example.com/u/T", "https://news.example.com/w")
    )
    assert "<" not in text.replace("<b>", "")
    assert "Unsubscribe: https://news.example.com/u/T" in text
    assert "View in browser: https://news.example.com/w" in text
    assert settings.postal_address in text
    assert "link\n(https://example.com/a?x=1&y=2)." in text  # wrapped before the URL, not in it
    assert "Click-jacked paragraph" in text and "document.cookie" not in text


def test_the_chinese_sample_reads_top_to_bottom(settings) -> None:
    text = render_issue(read_article(SAMPLE_ARTICLE), settings).text
    lines = text.splitlines()
    assert lines[0] == settings.newsletter_name
    assert "Dennis Lau @ Trilogies · 2025年9月4日 · 讀畢需時 4 分鐘" in lines
    assert (
        text.index("醫療數據安全的AI與區塊鏈應用")
        < text.index("對香港的啟示")
        < text.index("取消訂閱：")
    )
    assert "在網頁閱讀全文：https://blog.example.com/post/ai-blockchain-healthcare-2025" in text


def test_paragraphs_wrap_at_72_columns_counting_chinese_characters_as_two(settings) -> None:
    body = render_issue(read_article(SAMPLE_ARTICLE), settings).text.split("-- \n")[0]
    lines = body.splitlines()
    assert max(display_width(line) for line in lines if "https://" not in line) <= 72
    assert max(len(line) for line in lines) > 30  # not one line per sentence either
    assert not [line for line in lines if line and line[0] in "，。、；：！？）」』》,.;:!?)"]


def test_a_url_is_never_broken_and_a_long_one_stands_on_its_own_line() -> None:
    url = "https://example.com/" + "a" * 90
    lines = text_of(f"See [the report]({url}) for the numbers.").splitlines()
    assert f"({url})" in lines


def test_a_table_too_wide_for_a_line_reads_as_one_label_per_cell() -> None:
    note, source = "n" * 40, "s" * 40
    table = f"| Name | Note | Source |\n|---|---|---|\n| Ada | {note} | {source} |\n| Bob | | x |"
    assert text_of(table) == (f"Name: Ada\nNote: {note}\nSource: {source}\n\nName: Bob\nSource: x")


def test_a_chinese_table_aligns_by_display_width() -> None:
    source = "| 項目 | 數值 |\n|---|---|\n| 市場 | 50億 |\n| AI | 25% |"
    assert text_of(source).splitlines() == ["項目  數值", "----  ----", "市場  50億", "AI    25%"]


def test_inline_code_reads_as_its_text_without_backticks() -> None:
    assert text_of("Set `secret_key` first.") == "Set secret_key first."


def test_the_signature_separator_is_dash_dash_space(settings) -> None:
    text = render_issue(read_article(SAMPLE_ARTICLE), settings).text
    assert "\n\n-- \n" in text


def test_raw_html_blocks_keep_their_paragraphs_and_link_targets() -> None:
    source = '<p>Please <a href="https://example.com/go">click here</a></p><p>Next paragraph.</p>'
    assert text_of(source) == "Please click here (https://example.com/go)\n\nNext paragraph."
