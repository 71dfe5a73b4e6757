"""Issues: the unit of exactly-once, with a stable id and a snapshot of what was sent.

The first real send (or schedule) of an article records its issue: an opaque id, the slug,
the file, and a snapshot of the article's text and of the rendered email. Resumes, retries,
scheduled runs and the archive use the snapshot, so editing the file afterwards changes
nothing anyone receives until `send --update-content` says so.

An article file finds its issue by path first (so editing the front matter slug keeps the
issue) and then by slug (the same article sent from another checkout or host). Slugs are
unique among issues, because the archive serves each issue at /archive/<slug>.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from newsletter.audience.queries import now
from newsletter.audience.store import Store
from newsletter.compose.article import Article, parse_article
from newsletter.compose.editions import ArticleEditions
from newsletter.db.schema import issues
from newsletter.delivery.ids import new_id
from newsletter.errors import NewsletterError
from newsletter.render.issue import Editions

__all__ = ["IssueRecord", "Issues", "Listing", "editions_sha", "source_sha"]


def source_sha(article: Article) -> str:
    return hashlib.sha256(article.source.encode("utf-8")).hexdigest()


def editions_sha(articles: ArticleEditions) -> str:
    """What "the issue's files changed" compares: the original's text and every edition the
    editor wrote (a converted one follows from the original). One edition: source_sha."""
    written = articles.written
    if not written:
        return source_sha(articles.original)
    digest = hashlib.sha256(articles.original.source.encode("utf-8"))
    for lang, article in written.items():
        digest.update(f"\0{lang}\0{article.source}".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class IssueRecord:
    id: str
    slug: str
    article: str
    source: str | None
    source_sha: str
    rendered: dict[str, Any] | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def has_snapshot(self) -> bool:
        """False only for issues sent by a release before snapshots (schema v6)."""
        return self.source is not None and self.rendered is not None

    def article_as_sent(self) -> Article:
        if self.source is None:
            raise NewsletterError(f"issue {self.id} has no snapshot of its article")
        return parse_article(self.source, Path(self.article))

    def editions_as_sent(self) -> Editions:
        if self.rendered is None:
            raise NewsletterError(f"issue {self.id} has no snapshot of its email")
        return Editions.from_snapshot(self.rendered)

    def articles_as_sent(self) -> ArticleEditions:
        """Every edition's article as sent: the original's text, and each other edition's
        (converted or written) as stored beside its render."""
        original = self.article_as_sent()
        articles = {original.lang: original}
        for edition in (self.rendered or {}).get("editions", []):
            article = parse_article(edition["source"], Path(edition["article"]))
            articles[edition["lang"]] = dataclasses.replace(
                article, meta=article.meta.model_copy(update={"lang": edition["lang"]})
            )
        return ArticleEditions(articles)

    def differs_from(self, articles: ArticleEditions | None) -> bool:
        """Whether the files now say something else (None: they cannot be read as they are)."""
        return articles is None or editions_sha(articles) != self.source_sha


class Listing(NamedTuple):
    """What an index of issues shows; the snapshot's fields are None for issues from before v6."""

    id: str
    slug: str
    article: str
    source_sha: str
    subject: str | None
    lang: str | None
    preheader: str | None
    others: list[dict[str, str]] | None
    """The other editions' lang, subject and preheader (None: the issue has one edition)."""
    updated_at: dt.datetime
    """When the snapshot was last written: a new one (``--update-content``) is a new version."""


class Issues:
    """Every read and write of the issues table."""

    def __init__(self, store: Store):
        self.store = store

    def get(self, issue_id: str) -> IssueRecord:
        with self.store.read() as conn:
            row = conn.execute(select(issues).where(issues.c.id == issue_id)).mappings().first()
        if row is None:
            raise NewsletterError(f"no issue {issue_id!r}")
        return IssueRecord(**row)

    def all(self) -> list[IssueRecord]:
        with self.store.read() as conn:
            found = conn.execute(select(issues).order_by(issues.c.created_at)).mappings()
            return [IssueRecord(**row) for row in found]

    def listings(self) -> list[Listing]:
        """Every issue's index entry, read from its snapshot without loading the whole of it."""
        shown = [issues.c.rendered[key].as_string() for key in ("subject", "lang", "preheader")]
        others = issues.c.rendered["edition_index"]
        query = select(
            issues.c.id,
            issues.c.slug,
            issues.c.article,
            issues.c.source_sha,
            *shown,
            others,
            issues.c.updated_at,
        )
        with self.store.read() as conn:
            return [Listing._make(row) for row in conn.execute(query)]

    def matching(self, article: Article) -> IssueRecord | None:
        """The issue this file was sent as: same file first, else same slug."""
        with self.store.read() as conn:
            known = conn.execute(
                select(issues.c.id, issues.c.article).order_by(issues.c.created_at)
            ).all()
        path = article.path.resolve()
        by_path = [issue_id for issue_id, stored in known if Path(stored).resolve() == path]
        return self.get(by_path[-1]) if by_path else self.by_slug(article.slug)

    def by_slug(self, slug: str) -> IssueRecord | None:
        with self.store.read() as conn:
            row = conn.execute(select(issues).where(issues.c.slug == slug)).mappings().first()
        return None if row is None else IssueRecord(**row)

    def create(self, articles: ArticleEditions, editions: Editions) -> IssueRecord:
        """Record a new issue with its snapshot; a process that raced us to it wins, and we use it."""
        article = articles.original
        moment = now()
        try:
            with self.store.write() as conn:
                issue_id = new_id("i", moment)
                conn.execute(
                    insert(issues).values(
                        id=issue_id, created_at=moment, **_snapshot(articles, editions, moment)
                    )
                )
        except IntegrityError:
            existing = self.by_slug(article.slug)
            if existing is None or existing.source_sha != editions_sha(articles):
                raise NewsletterError(
                    f"slug {article.slug!r} already names another issue; give this article "
                    "its own 'slug:' in the front matter",
                    path=article.path,
                ) from None
            return existing
        return self.get(issue_id)

    def replace_snapshot(
        self, issue: IssueRecord, articles: ArticleEditions, editions: Editions
    ) -> IssueRecord:
        """What the remaining readers get from now on (``send --update-content``)."""
        article = articles.original
        other = self.by_slug(article.slug)
        if other is not None and other.id != issue.id:
            raise NewsletterError(
                f"slug {article.slug!r} already names issue {other.id}; keep this issue's slug "
                f"{issue.slug!r} or choose another",
                path=article.path,
            )
        with self.store.write() as conn:
            conn.execute(
                update(issues)
                .where(issues.c.id == issue.id)
                .values(**_snapshot(articles, editions, now()))
            )
        return self.get(issue.id)


def _snapshot(articles: ArticleEditions, editions: Editions, moment: dt.datetime) -> dict[str, Any]:
    """The original's text and every edition's render; each other edition keeps its text too."""
    article = articles.original
    rendered = editions.snapshot()
    for edition in rendered.get("editions", []):
        own = articles.articles[edition["lang"]]
        edition |= {"source": own.source, "article": str(own.path.resolve())}
    return {
        "slug": article.slug,
        "article": str(article.path.resolve()),
        "source": article.source,
        "source_sha": editions_sha(articles),
        "rendered": rendered,
        "updated_at": moment,
    }
