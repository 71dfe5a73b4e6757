"""examine(): the QA rules see the exact message a builder sends, and the links its author wrote."""

from __future__ import annotations

from pathlib import Path

from newsletter.compose.article import read_article
from newsletter.compose.editions import ArticleEditions
from newsletter.config import ClickTracking
from newsletter.qa.build import examine
from newsletter.render import render_issue
from newsletter.render.mime import MessageBuilder
from tests.delivery.helpers import repo_settings


def test_with_click_tracking_the_rules_still_judge_the_links_the_author_wrote(
    tmp_path: Path,
) -> None:
    path = tmp_path / "plain-http.md"
    path.write_text(
        "---\ntitle: Links\ndate: 2025-09-04\nlang: en\npreheader: One link.\n---\n\n"
        "Read [the old page](http://blog.example.com/old) today.\n",
        "utf-8",
    )
    settings, article = repo_settings(), read_article(path)
    issue = render_issue(article, settings)
    for mode in ClickTracking:
        builder = MessageBuilder(issue, settings, campaign="c1", tracking=mode)
        findings = examine(ArticleEditions.single(article), builder, settings).report.findings
        flagged = [f.where for f in findings if f.code == "link-https"]
        assert flagged == ["http://blog.example.com/old"], mode
