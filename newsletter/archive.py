"""The web archive: every sent issue as a web page, an index and an Atom feed.

Served by `newsletter serve` and written as static files by `newsletter archive build`,
from the same functions. The web version is the email itself with neutral personal fields:
the greeting's fallback ("Hi there"), and an unsubscribe link to a page explaining how to
leave, never a reader's name or token.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import exists, select

from newsletter.article import read_article
from newsletter.atomic import replace_dir
from newsletter.audience.schema import campaign_recipients, campaigns
from newsletter.audience.store import Store
from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.issue import RecipientFields
from newsletter.render import render_issue
from newsletter.web.pages import Pages

__all__ = ["ArchivedIssue", "atom_feed", "build_site", "index_page", "sent_issues", "web_version"]

ATOM = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class ArchivedIssue:
    slug: str
    subject: str
    sent_at: dt.datetime
    article: Path
    lang: str = ""
    preheader: str = ""


def sent_issues(store: Store) -> list[ArchivedIssue]:
    """Issues that reached at least one subscriber, newest first; one entry per slug."""
    delivered = exists().where(
        campaign_recipients.c.campaign_id == campaigns.c.id, campaign_recipients.c.state == "sent"
    )
    query = (
        select(campaigns.c.slug, campaigns.c.subject, campaigns.c.created_at, campaigns.c.article)
        .where(delivered)
        .order_by(campaigns.c.created_at)
    )
    with store.read() as conn:
        rows = conn.execute(query).all()
    first: dict[str, ArchivedIssue] = {}
    for slug, subject, created_at, article in rows:
        first.setdefault(slug, ArchivedIssue(slug, subject, created_at, Path(article)))
    issues = [_with_front_matter(issue) for issue in first.values()]
    return sorted(issues, key=lambda issue: issue.sent_at, reverse=True)


def web_version(issue: ArchivedIssue, settings: Settings) -> str:
    """The issue's HTML with neutral fields, as "view in browser" shows it."""
    if not issue.article.is_file():
        raise NewsletterError(
            f"the article of {issue.slug!r} is gone; the archive needs the file that was sent",
            path=issue.article,
        )
    rendered = render_issue(read_article(issue.article), settings)
    neutral = RecipientFields(None, f"{settings.base_url}/unsubscribe", rendered.web_url)
    html, _ = rendered.personalize(neutral)
    return html


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
    return ArchivedIssue(
        issue.slug, issue.subject, issue.sent_at, issue.article, article.lang, article.preheader
    )


def _text(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}{tag}").text = value
