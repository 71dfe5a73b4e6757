"""The web archive: every sent issue as a web page, an index and an Atom feed.

Served by `newsletter serve` and written as static files by `newsletter archive build`,
from the same functions. The web version is the email itself with neutral personal fields:
the greeting's fallback ("Hi there"), and an unsubscribe link to a page explaining how to
leave, never a reader's name or token.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import exists, func, select

from newsletter.article import read_article
from newsletter.atomic import replace_dir
from newsletter.audience.schema import campaign_recipients, campaigns
from newsletter.audience.store import Store, now
from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.issue import RecipientFields
from newsletter.pages import Pages
from newsletter.render import render_issue

__all__ = [
    "ArchivedIssue",
    "RenderedIssues",
    "atom_feed",
    "build_site",
    "index_page",
    "sent_issues",
    "web_version",
]

ATOM = "http://www.w3.org/2005/Atom"
log = logging.getLogger("newsletter.archive")


@dataclass(frozen=True)
class ArchivedIssue:
    slug: str
    subject: str
    sent_at: dt.datetime
    article: Path
    sha: str = ""
    """The article's SHA-256 when it was sent: the web version warns when the file changed."""
    lang: str = ""
    preheader: str = ""


def sent_issues(store: Store) -> list[ArchivedIssue]:
    """Public issues that reached subscribers, newest first; one entry per slug.

    Public means a campaign to the whole list (a tag or language segment may be for members
    only) whose delivery time has come (a scheduled send is not published early).
    """
    delivered = exists().where(
        campaign_recipients.c.campaign_id == campaigns.c.id, campaign_recipients.c.state == "sent"
    )
    sent_at = func.coalesce(campaigns.c.send_at, campaigns.c.created_at)
    query = (
        select(
            campaigns.c.slug,
            campaigns.c.subject,
            sent_at,
            campaigns.c.article,
            campaigns.c.filters,
            campaigns.c.article_sha,
        )
        .where(delivered, sent_at <= now())
        .order_by(sent_at)
    )
    with store.read() as conn:
        rows = conn.execute(query).all()
    first: dict[str, ArchivedIssue] = {}
    for slug, subject, when, article, filters, sha in rows:
        if not any((filters or {}).values()):
            first.setdefault(slug, ArchivedIssue(slug, subject, _aware(when), Path(article), sha))
    issues = [_with_front_matter(issue) for issue in first.values()]
    return sorted(issues, key=lambda issue: issue.sent_at, reverse=True)


def web_version(issue: ArchivedIssue, settings: Settings) -> str:
    """The issue's HTML with neutral fields, as "view in browser" shows it."""
    if not issue.article.is_file():
        raise NewsletterError(
            f"the article of {issue.slug!r} is gone; the archive needs the file that was sent",
            path=issue.article,
        )
    article = read_article(issue.article)
    if issue.sha and hashlib.sha256(article.source.encode("utf-8")).hexdigest() != issue.sha:
        log.warning(
            "archive %s: the article changed since it was sent; showing it as it is now", issue.slug
        )
    rendered = render_issue(article, settings)
    neutral = RecipientFields(None, f"{settings.base_url}/unsubscribe", rendered.web_url)
    html, _ = rendered.personalize(neutral)
    return html


class RenderedIssues:
    """Web versions by slug and file version: an issue renders once, not once per reader."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pages: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def get(self, issue: ArchivedIssue) -> str:
        version = issue.article.stat().st_mtime if issue.article.exists() else 0.0
        with self._lock:
            cached = self._pages.get(issue.slug)
            if cached is None or cached[0] != version:
                self._pages[issue.slug] = (version, web_version(issue, self._settings))
            return self._pages[issue.slug][1]


def index_page(issues: list[ArchivedIssue], pages: Pages, lang: str) -> str:
    return pages.render("archive.html.j2", lang, title_key="archive_title", issues=issues)


def atom_feed(issues: list[ArchivedIssue], settings: Settings) -> bytes:
    """An Atom 1.0 feed of the sent issues (RFC 4287)."""
    ET.register_namespace("", ATOM)
    base = settings.base_url
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "title", settings.newsletter_name)
    _text(feed, "id", f"{base}/archive/")
    updated = max((i.sent_at for i in issues), default=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    _text(feed, "updated", updated.isoformat())
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"{base}/archive/feed.xml")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=f"{base}/archive/")
    _text(ET.SubElement(feed, f"{{{ATOM}}}author"), "name", settings.newsletter_name)
    for issue in issues:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "title", issue.subject)
        _text(entry, "id", f"{base}/archive/{issue.slug}")
        _text(entry, "updated", issue.sent_at.isoformat())
        ET.SubElement(
            entry, f"{{{ATOM}}}link", rel="alternate", href=f"{base}/archive/{issue.slug}"
        )
        if issue.preheader:
            _text(entry, "summary", issue.preheader)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def build_site(store: Store, settings: Settings, out_dir: Path, pages: Pages) -> list[str]:
    """Write the archive as static files (replacing out_dir at once); returns the file names."""
    issues = sent_issues(store)
    lang = pages.lang()
    t = pages.strings[lang]
    files = {
        "archive/index.html": index_page(issues, pages, lang).encode("utf-8"),
        "archive/feed.xml": atom_feed(issues, settings),
        "static/site.css": pages.stylesheet().encode("utf-8"),
        "unsubscribe/index.html": pages.render(
            "notice.html.j2", lang, title=t.unsubscribe_info_title, body=t.unsubscribe_info_body
        ).encode("utf-8"),
    }
    for issue in issues:
        files[f"archive/{issue.slug}/index.html"] = web_version(issue, settings).encode("utf-8")
    replace_dir(out_dir, files)
    return sorted(files)


def _with_front_matter(issue: ArchivedIssue) -> ArchivedIssue:
    """Language and preview text from the article, when its file is still there."""
    try:
        article = read_article(issue.article)
    except NewsletterError:
        return issue
    return dataclasses.replace(issue, lang=article.lang, preheader=article.preheader)


def _aware(value: dt.datetime | str) -> dt.datetime:
    """coalesce() hands back the stored text, not the column type's datetime."""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _text(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}{tag}").text = value
