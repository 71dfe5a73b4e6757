"""The web archive: every sent issue as a web page, an index and an Atom feed.

Served by `newsletter serve` and written as static files by `newsletter archive build`,
from the same functions. The web version is the email as it was sent (the issue's snapshot,
whatever the article file says now) with neutral personal fields: the greeting's fallback
("Hi there"), and an unsubscribe link to a page explaining how to leave, never a reader's
name or token.
"""

from __future__ import annotations

import datetime as dt
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from newsletter.atomic import replace_dir
from newsletter.audience.queries import now
from newsletter.audience.store import Store
from newsletter.compose.article import read_article
from newsletter.config import Settings
from newsletter.delivery.issues import IssueRecord, Issues, Listing, source_sha
from newsletter.delivery.journal import Journal
from newsletter.errors import NewsletterError
from newsletter.render import render_issue
from newsletter.render.issue import RecipientFields, RenderedIssue
from newsletter.render.pages import Pages

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
_SITE = ("archive", "static", "unsubscribe")
"""What a static archive held before folders carried newsletter's marker."""


@dataclass(frozen=True)
class ArchivedIssue:
    id: str
    slug: str
    subject: str
    sent_at: dt.datetime
    lang: str = ""
    preheader: str = ""
    version: str = ""
    """The snapshot's SHA-256: a cached web version stays valid while it is the same."""


def sent_issues(store: Store) -> list[ArchivedIssue]:
    """Public issues that reached subscribers, newest first, as they were sent.

    Public means sent by a campaign to the whole list (a tag or language segment may be for
    members only) whose delivery time has come (a scheduled send is not published early).
    """
    first = Journal(store).published(now())
    found = Issues(store).listings()
    listed = [_listed(row, first[row.id]) for row in found if row.id in first]
    return sorted(listed, key=lambda issue: issue.sent_at, reverse=True)


def web_version(store: Store, issue: ArchivedIssue, settings: Settings) -> str:
    """The issue's HTML as it was sent, with neutral fields, as "view in browser" shows it."""
    rendered = _rendered(Issues(store).get(issue.id), settings)
    neutral = RecipientFields(None, f"{settings.base_url}/unsubscribe", rendered.web_url)
    html, _ = rendered.personalize(neutral)
    return html


class RenderedIssues:
    """Web versions by issue and snapshot: an issue is personalised once, not once per reader."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._pages: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()

    def get(self, issue: ArchivedIssue) -> str:
        with self._lock:
            cached = self._pages.get(issue.id)
            if cached is None or cached[0] != issue.version:
                page = web_version(self._store, issue, self._settings)
                self._pages[issue.id] = (issue.version, page)
            return self._pages[issue.id][1]


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
    feed_bytes: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return feed_bytes


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
        page = web_version(store, issue, settings)
        files[f"archive/{issue.slug}/index.html"] = page.encode("utf-8")
    replace_dir(out_dir, files, what="the static archive", earlier=_SITE)
    return sorted(files)


def _listed(row: Listing, sent_at: dt.datetime) -> ArchivedIssue:
    """The index entry: from the snapshot, or from the file for an issue sent before snapshots."""
    issue_id, slug, article_path, sha, subject, lang, preheader = row
    if subject is not None:
        return ArchivedIssue(issue_id, slug, subject, sent_at, lang or "", preheader or "", sha)
    try:
        article = read_article(Path(article_path))
    except NewsletterError:
        return ArchivedIssue(issue_id, slug, slug, sent_at)
    return ArchivedIssue(
        issue_id, slug, article.subject, sent_at, article.lang, article.preheader,
        source_sha(article),
    )  # fmt: skip


def _rendered(record: IssueRecord, settings: Settings) -> RenderedIssue:
    if record.has_snapshot:
        return record.rendered_as_sent()
    path = Path(record.article)
    if not path.is_file():
        raise NewsletterError(
            f"the article of {record.slug!r} is gone and was sent before snapshots were kept",
            path=path,
        )
    return render_issue(read_article(path), settings)


def _text(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}{tag}").text = value
