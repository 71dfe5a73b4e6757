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
from newsletter.languages import name_of
from newsletter.render import render_issue
from newsletter.render.issue import Editions, RecipientFields
from newsletter.render.pages import Pages

__all__ = [
    "ArchivedIssue",
    "Edition",
    "RenderedIssues",
    "atom_feed",
    "build_site",
    "feed_langs",
    "feed_path",
    "index_page",
    "sent_issues",
    "web_version",
]

ATOM = "http://www.w3.org/2005/Atom"
_SITE = ("archive", "static", "unsubscribe")
"""What a static archive held before folders carried newsletter's marker."""


@dataclass(frozen=True)
class Edition:
    """One edition as the index and feeds list it."""

    lang: str
    subject: str
    preheader: str
    path: str
    """Under base_url: /archive/<slug> for the original, /archive/<slug>/<lang> for others."""

    @property
    def name(self) -> str:
        return name_of(self.lang)


@dataclass(frozen=True)
class ArchivedIssue:
    id: str
    slug: str
    subject: str
    sent_at: dt.datetime
    lang: str = ""
    preheader: str = ""
    version: str = ""
    """The snapshot's text hash and time: a cached web version stays valid while it is the same."""
    others: tuple[Edition, ...] = ()
    """Its editions other than the original, in order."""

    @property
    def editions(self) -> tuple[Edition, ...]:
        original = Edition(self.lang, self.subject, self.preheader, f"/archive/{self.slug}")
        return (original, *self.others)

    def edition(self, lang: str | None) -> Edition | None:
        """The edition in ``lang`` (None: the original); None when it has no such edition."""
        editions = self.editions
        return editions[0] if lang is None else next((e for e in editions if e.lang == lang), None)

    def edition_for(self, lang: str) -> Edition:
        """What a feed in ``lang`` shows: that edition, else the original (as in the mail)."""
        return self.edition(lang) or self.editions[0]


def sent_issues(store: Store) -> list[ArchivedIssue]:
    """Public issues that reached subscribers, newest first, as they were sent.

    Public means sent by a campaign to the whole list (a tag or language segment may be for
    members only) whose delivery time has come (a scheduled send is not published early).
    """
    first = Journal(store).published(now())
    found = Issues(store).listings()
    listed = [_listed(row, first[row.id]) for row in found if row.id in first]
    return sorted(listed, key=lambda issue: issue.sent_at, reverse=True)


def web_version(
    store: Store, issue: ArchivedIssue, settings: Settings, lang: str | None = None
) -> str:
    """An edition's HTML as it was sent, with neutral fields, as "view in browser" shows it,
    and links to its other editions (hreflang) in the head."""
    editions = _editions(Issues(store).get(issue.id), settings)
    rendered = editions.renders[lang] if lang else editions.original
    neutral = RecipientFields(None, f"{settings.base_url}/unsubscribe", rendered.web_url)
    html, _ = rendered.personalize(neutral)
    if len(issue.editions) == 1:
        return html
    alternates = "".join(
        f'<link rel="alternate" hreflang="{e.lang}" href="{settings.base_url}{e.path}">'
        for e in issue.editions
    )
    default = f'<link rel="alternate" hreflang="x-default" href="{settings.base_url}/archive/{issue.slug}">'
    return html.replace("</head>", f"{alternates}{default}</head>", 1)


class RenderedIssues:
    """Web versions by issue, edition and snapshot: personalised once, not once per reader."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._pages: dict[tuple[str, str | None], tuple[str, str]] = {}
        self._lock = threading.Lock()

    def get(self, issue: ArchivedIssue, lang: str | None = None) -> str:
        with self._lock:
            cached = self._pages.get((issue.id, lang))
            if cached is None or cached[0] != issue.version:
                page = web_version(self._store, issue, self._settings, lang)
                self._pages[(issue.id, lang)] = (issue.version, page)
            return self._pages[(issue.id, lang)][1]


def index_page(issues: list[ArchivedIssue], pages: Pages, lang: str) -> str:
    feeds = [(feed_path(), None)] + [(feed_path(e), e) for e in feed_langs(issues)]
    return pages.render(
        "archive.html.j2", lang, title_key="archive_title", issues=issues, feeds=feeds,
        name_of=name_of,
    )  # fmt: skip


def feed_langs(issues: list[ArchivedIssue]) -> list[str]:
    """The languages with a feed of their own: every edition that is not an original."""
    return sorted({e.lang for issue in issues for e in issue.others})


def feed_path(lang: str | None = None) -> str:
    return f"/archive/feed.{lang}.xml" if lang else "/archive/feed.xml"


def atom_feed(issues: list[ArchivedIssue], settings: Settings, lang: str | None = None) -> bytes:
    """An Atom 1.0 feed of the sent issues (RFC 4287): the originals, or each issue in ``lang``
    where it has that edition and as the original where it has not (as readers' mail does)."""
    ET.register_namespace("", ATOM)
    base = settings.base_url
    feed = ET.Element(f"{{{ATOM}}}feed")
    if lang:
        feed.set("{http://www.w3.org/XML/1998/namespace}lang", lang)
    _text(feed, "title", settings.newsletter_name + (f" ({name_of(lang)})" if lang else ""))
    _text(feed, "id", f"{base}{feed_path(lang)}")
    updated = max((i.sent_at for i in issues), default=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    _text(feed, "updated", updated.isoformat())
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"{base}{feed_path(lang)}")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=f"{base}/archive/")
    _text(ET.SubElement(feed, f"{{{ATOM}}}author"), "name", settings.newsletter_name)
    for issue in issues:
        edition = issue.edition_for(lang) if lang else issue.editions[0]
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        entry.set("{http://www.w3.org/XML/1998/namespace}lang", edition.lang)
        _text(entry, "title", edition.subject)
        _text(entry, "id", f"{base}{edition.path}")
        _text(entry, "updated", issue.sent_at.isoformat())
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=f"{base}{edition.path}")
        if edition.preheader:
            _text(entry, "summary", edition.preheader)
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
    for lang in feed_langs(issues):
        files[feed_path(lang).lstrip("/")] = atom_feed(issues, settings, lang)
    for issue in issues:
        for n, edition in enumerate(issue.editions):
            page = web_version(store, issue, settings, edition.lang if n else None)
            files[f"{edition.path.lstrip('/')}/index.html"] = page.encode("utf-8")
    replace_dir(out_dir, files, what="the static archive", earlier=_SITE)
    return sorted(files)


def _listed(row: Listing, sent_at: dt.datetime) -> ArchivedIssue:
    """The index entry: from the snapshot, or from the file for an issue sent before snapshots."""
    issue_id, slug, article_path, sha, subject, lang, preheader, others, updated_at = row
    version = f"{sha}@{updated_at.isoformat()}"
    if subject is not None:
        editions = tuple(
            Edition(e["lang"], e["subject"], e["preheader"], f"/archive/{slug}/{e['lang']}")
            for e in others or ()
        )
        return ArchivedIssue(
            issue_id, slug, subject, sent_at, lang or "", preheader or "", version, editions
        )
    try:
        article = read_article(Path(article_path))
    except NewsletterError:
        return ArchivedIssue(issue_id, slug, slug, sent_at)
    return ArchivedIssue(
        issue_id, slug, article.subject, sent_at, article.lang, article.preheader,
        source_sha(article),
    )  # fmt: skip


def _editions(record: IssueRecord, settings: Settings) -> Editions:
    if record.has_snapshot:
        return record.editions_as_sent()
    path = Path(record.article)
    if not path.is_file():
        raise NewsletterError(
            f"the article of {record.slug!r} is gone and was sent before snapshots were kept",
            path=path,
        )
    return Editions.single(render_issue(read_article(path), settings))


def _text(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}{tag}").text = value
