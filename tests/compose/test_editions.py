"""Which editions an article has, and whose words win in the converted one."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.compose.article import read_article
from newsletter.compose.editions import article_editions
from newsletter.config import SimplifiedEdition
from newsletter.errors import ArticleError, TemplateError
from newsletter.render.editions import render_editions
from newsletter.render.issue import Editions
from tests.delivery.helpers import repo_settings

HEAD = "---\ntitle: 醫療數據\ndate: 2025-09-04\nlang: zh-Hant\nslug: editions\n"


def _article(
    folder: Path, front: str = "", body: str = "隨著醫療數據增長，灣仔診所著名。\n"
) -> Path:
    path = folder / "article.md"
    path.write_text(f"{HEAD}{front}---\n\n{body}", "utf-8")
    return path


def test_a_zh_hant_article_gets_a_zh_hans_edition_with_the_newsletters_phrases(
    tmp_path: Path,
) -> None:
    editions = article_editions(read_article(_article(tmp_path)), repo_settings())
    assert list(editions.articles) == ["zh-Hant", "zh-Hans"]
    simplified = editions.articles["zh-Hans"]
    assert simplified.lang == "zh-Hans" and simplified.slug == "editions"
    assert simplified.meta.title == "医疗数据"
    assert simplified.body.strip() == "随着医疗数据增长，湾仔诊所著名。"  # templates/editions.toml


def test_the_articles_own_phrases_and_kept_names_win(tmp_path: Path) -> None:
    front = "phrases:\n  著名: 有名\nkeep:\n  - 灣仔\n"
    editions = article_editions(read_article(_article(tmp_path, front)), repo_settings())
    assert editions.articles["zh-Hans"].body.strip() == "随着医疗数据增长，灣仔诊所有名。"


def test_no_edition_when_switched_off_or_for_another_language(tmp_path: Path) -> None:
    off = repo_settings().model_copy(update={"zh_hans_edition": SimplifiedEdition.OFF})
    assert list(article_editions(read_article(_article(tmp_path)), off).articles) == ["zh-Hant"]
    english = tmp_path / "en.md"
    english.write_text("---\ntitle: Hi\ndate: 2025-09-04\nlang: en\n---\n\nHello.\n", "utf-8")
    assert list(article_editions(read_article(english), repo_settings()).articles) == ["en"]


def test_an_edition_the_editor_wrote_is_read_beside_the_article(tmp_path: Path) -> None:
    (tmp_path / "article.en.md").write_text(
        "---\ntitle: Medical data\ndate: 2025-09-04\nlang: en\n---\n\nData grows.\n", "utf-8"
    )
    path = _article(tmp_path, "editions:\n  en: article.en.md\n")
    editions = article_editions(read_article(path), repo_settings())
    assert list(editions.articles) == ["zh-Hant", "zh-Hans", "en"]
    assert editions.articles["en"].slug == "editions"  # one issue, one slug
    assert editions.articles["en"].meta.title == "Medical data"


def test_a_written_zh_hans_edition_replaces_the_conversion(tmp_path: Path) -> None:
    (tmp_path / "article.zh-Hans.md").write_text(
        "---\ntitle: 医疗资料\ndate: 2025-09-04\nlang: zh-CN\n---\n\n手写的简体版。\n", "utf-8"
    )
    path = _article(tmp_path, "editions:\n  zh-CN: article.zh-Hans.md\n")
    editions = article_editions(read_article(path), repo_settings())
    assert editions.conversion is None
    assert editions.articles["zh-Hans"].meta.title == "医疗资料"
    assert editions.articles["zh-Hans"].lang == "zh-Hans"  # named as the edition it is
    rendered = render_editions(editions, repo_settings())
    assert rendered.langs == ("zh-Hant", "zh-Hans") and rendered.pick("zh-CN") == "zh-Hans"
    assert Editions.from_snapshot(rendered.snapshot()).langs == rendered.langs


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ("---\ntitle: Hi\ndate: 2025-09-04\nlang: fr\n---\n\nSalut.\n", "make them agree"),
        (None, "no such file beside article.md"),
    ],
)
def test_a_written_edition_that_does_not_fit_is_a_clear_error(
    tmp_path: Path, written: str | None, words: str
) -> None:
    if written is not None:
        (tmp_path / "article.en.md").write_text(written, "utf-8")
    path = _article(tmp_path, "editions:\n  en: article.en.md\n")
    with pytest.raises(ArticleError, match=words):
        article_editions(read_article(path), repo_settings())


def test_a_broken_editions_file_names_itself(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "editions.toml").write_text('["zh-Hans"]\nkeep = "灣仔"\n', "utf-8")
    settings = repo_settings().model_copy(update={"templates_dir": templates})
    with pytest.raises(TemplateError, match=r"editions.toml.*keep"):
        article_editions(read_article(_article(tmp_path)), settings)


@pytest.mark.parametrize(
    "front", ['keep:\n  - 灣仔\n  - " "\n', 'phrases:\n  "": X\n'], ids=["keep", "phrases"]
)
def test_an_empty_name_or_phrase_is_refused_not_matched_everywhere(
    tmp_path: Path, front: str
) -> None:
    with pytest.raises(ArticleError, match="empty name or phrase"):
        read_article(_article(tmp_path, front))


def test_an_empty_phrase_in_the_editions_file_is_refused(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "editions.toml").write_text('["zh-Hans".phrases]\n"" = "x"\n', "utf-8")
    settings = repo_settings().model_copy(update={"templates_dir": templates})
    with pytest.raises(TemplateError, match="phrases has an empty name or phrase"):
        article_editions(read_article(_article(tmp_path)), settings)


@pytest.mark.parametrize(
    ("front", "words"),
    [
        ("editions: en\n", "'editions' must be indented 'language: file' lines"),
        ("keep: 灣仔\n", "'keep' must be a list of names"),
        ("phrases: 隨著\n", "'phrases' must be indented 'Traditional: Simplified' lines"),
    ],
)
def test_front_matter_of_the_wrong_shape_says_how_to_write_it(
    tmp_path: Path, front: str, words: str
) -> None:
    with pytest.raises(ArticleError, match=words):
        read_article(_article(tmp_path, front))
