"""An article is front matter plus Markdown; every mistake in it is named with file and line."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from newsletter.compose.article import derive_preheader, read_article
from newsletter.compose.reading import display_width
from newsletter.errors import ArticleError
from tests.conftest import SAMPLE_ARTICLE


def test_the_sample_article_reads_with_its_front_matter() -> None:
    article = read_article(SAMPLE_ARTICLE)
    assert article.meta.title == "叁壹智能新聞：人工智能與區塊鏈在醫療與科研的融合應用"
    assert article.meta.author == "Dennis Lau @ Trilogies"
    assert article.meta.date == dt.date(2025, 9, 4)
    assert article.lang == "zh-Hant"
    assert article.slug == "2025-09-04-ai-blockchain-healthcare"
    assert article.subject == article.meta.title
    assert not article.preheader_derived


def test_optional_fields_hero_canonical_tags_and_subject(write_article) -> None:
    path = write_article(
        "Body.",
        hero="{url: 'https://example.com/hero.jpg', alt: 'A harbour at dusk', width: 560}",
        canonical_url="https://blog.example.com/p/1",
        tags="[ai, health]",
        subject="Custom subject",
    )
    article = read_article(path)
    assert article.meta.hero is not None and article.meta.hero.width == 560
    assert article.meta.canonical_url == "https://blog.example.com/p/1"
    assert article.meta.tags == ("ai", "health")
    assert article.subject == "Custom subject"


def test_missing_preheader_is_the_first_sentence_of_the_first_paragraph(write_article) -> None:
    article = read_article(write_article("First sentence here. Second one.\n\nNext paragraph."))
    assert article.preheader == "First sentence here."
    assert article.preheader_derived


def test_a_long_chinese_first_sentence_is_cut_at_a_clause_within_fifty_characters() -> None:
    paragraph = "2025年，人工智能與區塊鏈技術的融合在醫療與科研領域掀起革新浪潮，為數據安全、醫療透明度及科研協作帶來突破。隨後"
    preheader = derive_preheader(paragraph)
    assert preheader.endswith("…")
    assert display_width(preheader) <= 100
    assert preheader.startswith("2025年，人工智能與區塊鏈")


def test_slug_defaults_to_the_file_name(write_article) -> None:
    assert read_article(write_article("x", name="Weekly Issue 12.md")).slug == "weekly-issue-12"


def test_unknown_front_matter_keys_are_named_with_their_line(write_article) -> None:
    path = write_article("Body.", autor="Typo Person")
    with pytest.raises(ArticleError) as error:
        read_article(path)
    message = str(error.value)
    assert f"{path}:5:" in message
    assert "'autor'" in message and "allowed keys are title, author" in message


def test_a_missing_required_field_is_named(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("---\ntitle: x\nlang: en\n---\nBody\n", encoding="utf-8")
    with pytest.raises(ArticleError, match=r"front matter 'date' is required"):
        read_article(path)


def test_invalid_yaml_reports_the_file_line(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("---\ntitle: x\ndate: 2025-09-04\nlang: [en\n---\nBody\n", encoding="utf-8")
    with pytest.raises(ArticleError, match=r"a\.md:\d+: front matter is not valid YAML"):
        read_article(path)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "title: AI: the future",
            ":2: the value of 'title' contains ': '; put it in quotes: title: \"AI: the future\"",
        ),
        ("title: *bold* news", ":2: the value of 'title' starts with '*'; put it in quotes"),
        ("\ttitle: x", "front matter is indented with a tab; use spaces"),
    ],
)
def test_common_yaml_slips_are_explained_with_the_fix(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "a.md"
    path.write_text(f"---\n{line}\ndate: 2025-09-04\nlang: en\n---\nBody\n", encoding="utf-8")
    with pytest.raises(ArticleError, match=re.escape(message)):
        read_article(path)


def test_a_bad_date_names_the_field_and_line(write_article) -> None:
    path = write_article("Body.", date="4 Sept")
    with pytest.raises(ArticleError, match=r":3: front matter 'date' "):
        read_article(path)


def test_http_urls_are_refused_in_front_matter(write_article) -> None:
    with pytest.raises(ArticleError, match="canonical_url' must be an https:// URL"):
        read_article(write_article("Body.", canonical_url="http://blog.example.com/p"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Just text\n", "no front matter: start the file with a '---' line"),
        ("---\ntitle: x\n", "front matter is not closed"),
    ],
)
def test_missing_or_unclosed_front_matter(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "a.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ArticleError, match=message):
        read_article(path)


def test_a_missing_file_and_non_utf8_bytes_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ArticleError, match="article not found"):
        read_article(tmp_path / "nope.md")
    big5 = tmp_path / "big5.md"
    big5.write_bytes("---\ntitle: 中文\n---\n".encode("big5"))
    with pytest.raises(ArticleError, match="not UTF-8"):
        read_article(big5)


@pytest.mark.parametrize("date", ["2025-13-40", "2025-02-30"])
def test_an_impossible_date_is_an_error_on_its_line(write_article, date: str) -> None:
    with pytest.raises(ArticleError, match=r":3: front matter 'date' "):
        read_article(write_article("Body.", date=date))


def test_a_control_character_in_the_front_matter_is_a_yaml_error(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(
        "---\ntitle: bad\x07bell\ndate: 2025-01-01\nlang: en\n---\nBody\n", encoding="utf-8"
    )
    with pytest.raises(ArticleError, match="front matter is not valid YAML"):
        read_article(path)


def test_an_empty_title_says_to_write_one(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("---\ntitle:\ndate: 2025-01-01\nlang: en\n---\nBody\n", encoding="utf-8")
    with pytest.raises(
        ArticleError, match=r":2: front matter 'title' is empty: write a value after 'title:'"
    ):
        read_article(path)


def test_a_file_name_without_latin_letters_needs_a_slug(write_article) -> None:
    with pytest.raises(ArticleError, match="add 'slug: "):
        read_article(write_article("Body.", name="中文週報.md"))
    assert (
        read_article(write_article("Body.", name="週報.md", slug="2025-10-01-weekly")).slug
        == "2025-10-01-weekly"
    )


@pytest.mark.parametrize(
    ("paragraph", "preheader"),
    [
        (
            "We moved to news.example.com last week. More soon.",
            "We moved to news.example.com last week.",
        ),
        (
            "Node.js 24 is out, e.g. for servers! Details below.",
            "Node.js 24 is out, e.g. for servers!",
        ),
    ],
)
def test_a_dot_inside_a_word_does_not_end_the_preheader(paragraph: str, preheader: str) -> None:
    assert derive_preheader(paragraph) == preheader


def test_an_image_only_first_paragraph_is_skipped_for_the_preheader(write_article) -> None:
    article = read_article(write_article("![](https://example.com/a.png)\n\nReal words here."))
    assert article.preheader == "Real words here."
