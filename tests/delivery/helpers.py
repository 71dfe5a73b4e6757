"""Issues and campaigns recorded the way `newsletter send` records them, for tests below the CLI."""

from __future__ import annotations

import datetime as dt
import functools
import time
import tomllib
from pathlib import Path

from newsletter.audience.models import Filters
from newsletter.audience.store import Store
from newsletter.compose.article import Article, read_article
from newsletter.compose.editions import ArticleEditions
from newsletter.config import Settings
from newsletter.delivery.issues import IssueRecord, Issues
from newsletter.delivery.journal import Journal
from newsletter.delivery.states import NewCampaign
from newsletter.render import render_issue
from newsletter.render.issue import Editions, RenderedIssue
from tests.conftest import REPO, SAMPLE_ARTICLE


def repo_settings() -> Settings:
    values = tomllib.loads((REPO / "newsletter.toml").read_text(encoding="utf-8"))
    return Settings(**values, templates_dir=REPO / "templates")


@functools.lru_cache(maxsize=8)
def rendered(path: Path = SAMPLE_ARTICLE) -> tuple[Article, RenderedIssue]:
    """An article and its email, rendered once per test run."""
    article = read_article(path)
    return article, render_issue(article, repo_settings())


def record_issue(store: Store, path: Path = SAMPLE_ARTICLE) -> IssueRecord:
    """The article's issue, recorded with its snapshot as a first real send would."""
    article, email = rendered(path)
    return Issues(store).matching(article) or Issues(store).create(
        ArticleEditions.single(article), Editions.single(email)
    )


def open_campaign(
    store: Store,
    *,
    campaign_id: str = "c1",
    filters: Filters | None = None,
    path: Path = SAMPLE_ARTICLE,
) -> str:
    """A running campaign of the article's issue with its audience frozen (once; then as is)."""
    journal = Journal(store)
    if journal.find(campaign_id) is None:
        issue = record_issue(store, path)
        spec = NewCampaign(
            issue_id=issue.id,
            slug=issue.slug,
            article=issue.article,
            subject=rendered(path)[1].subject,
            article_sha=issue.source_sha,
            filters=filters or Filters(),
            provider="test",
        )
        journal.create(spec, campaign_id=campaign_id)
    return campaign_id


def soon(seconds: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).isoformat()


def wait_until(moment: str) -> None:
    time.sleep(
        max(0.0, (dt.datetime.fromisoformat(moment) - dt.datetime.now(dt.UTC)).total_seconds())
        + 0.2
    )
