"""Each edition rendered once, as a whole email in its own script."""

from __future__ import annotations

import shutil
from pathlib import Path

from newsletter.compose.article import read_article
from newsletter.compose.editions import article_editions
from newsletter.render.editions import render_editions
from tests.conftest import REPO, SAMPLE_ARTICLE
from tests.delivery.helpers import repo_settings


def test_the_zh_hans_edition_is_a_whole_email_in_simplified() -> None:
    settings = repo_settings()
    editions = render_editions(article_editions(read_article(SAMPLE_ARTICLE), settings), settings)
    assert editions.langs == ("zh-Hant", "zh-Hans")
    hans = editions.renders["zh-Hans"]
    assert hans.subject.startswith("叁壹智能新闻") and hans.preheader.startswith("AI与区块链")
    assert '<html lang="zh-Hans"' in hans.html and "'PingFang SC'" in hans.html
    assert "'PingFang TC'" not in hans.html
    assert "阅读约需 4 分钟" in hans.text and "叁壹智能周报" in hans.text  # template and name
    assert hans.web_url.endswith("/archive/2025-09-04-ai-blockchain-healthcare/zh-Hans")
    assert editions.original.web_url.endswith("/archive/2025-09-04-ai-blockchain-healthcare")


def test_a_locales_file_from_before_editions_gets_its_zh_hans_strings_converted(
    tmp_path: Path,
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    locales = (templates / "locales.toml").read_text("utf-8")
    (templates / "locales.toml").write_text(locales.split('["zh-Hans"]')[0], "utf-8")
    settings = repo_settings().model_copy(update={"templates_dir": templates})
    editions = render_editions(article_editions(read_article(SAMPLE_ARTICLE), settings), settings)
    hans = editions.renders["zh-Hans"]
    assert "读毕需时 4 分钟" in hans.text and "'Noto Sans CJK SC'" in hans.html
    assert "在浏览器中查看" in hans.html
