"""`newsletter build` and `newsletter check`: render an article for the sample reader and judge it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import lxml.html

from newsletter.atomic import replace_dir
from newsletter.compose.article import Article, read_article
from newsletter.compose.editions import ArticleEditions, article_editions
from newsletter.compose.script import Reading
from newsletter.config import Settings
from newsletter.qa.editions import reading_findings, to_review
from newsletter.qa.findings import Finding, Inspection
from newsletter.qa.linkcheck import check_links
from newsletter.qa.report import Report, build_report
from newsletter.qa.rules import run_rules
from newsletter.qa.spam import SpamScore, spam_findings, spam_score
from newsletter.recipients import first_name_of
from newsletter.render.editions import render_editions
from newsletter.render.issue import RecipientFields, RenderedIssue
from newsletter.render.mime import Composed, MessageBuilder, Recipient

__all__ = ["BuildResult", "Checked", "build", "check", "examine", "sample_recipient"]


@dataclass(frozen=True)
class Checked:
    issue: RenderedIssue
    sample: Composed
    report: Report
    spam: SpamScore | None = None
    editions: dict[str, tuple[RenderedIssue, Composed]] = field(default_factory=dict)
    """Every edition and the sample reader's copy of it, the original first."""
    readings: tuple[Reading, ...] = ()
    """Where the zh-Hans conversion chose between readings and no reviewed reading covers it."""
    every_reading: tuple[Reading, ...] = ()
    """Every place the conversion chose, reviewed or not (the preview marks them all)."""


@dataclass(frozen=True)
class BuildResult:
    out_dir: Path
    issue: RenderedIssue
    report: Report


def sample_recipient(settings: Settings, edition: str | None = None) -> Recipient:
    """The fictitious reader whose copy build writes and test sends use."""
    name = settings.sample_name
    return Recipient(
        key="sample",
        email=settings.sample_email,
        name=name,
        first_name=first_name_of(name),
        edition=edition,
    )


def check(
    article_path: Path, settings: Settings, *, links: bool = False, spam: bool = False
) -> Checked:
    """Render every edition once, build the sample reader's copies with delivery's code, and
    run every QA rule on each.

    With links, every link other than the per-recipient ones is also asked over the network;
    with spam, a local SpamAssassin scores the message (Checked.spam is None when it is absent).
    """
    articles = article_editions(read_article(article_path), settings)
    editions = render_editions(articles, settings)
    builder = MessageBuilder(editions, settings, campaign=f"build-{editions.original.slug}")
    return examine(articles, builder, settings, links=links, spam=spam)


def examine(
    articles: ArticleEditions,
    builder: MessageBuilder,
    settings: Settings,
    *,
    links: bool = False,
    spam: bool = False,
) -> Checked:
    """Every QA rule on the sample reader's copy of each edition of exactly what ``builder``
    sends. Another edition's findings are listed unless the original has the same one (same
    rule, place and severity: an edition's error is never hidden by the original's warning)."""
    original, *others = builder.editions.langs
    findings, sample, fields = _edition_findings(
        articles.articles[original], builder, original, settings
    )
    seen = {(f.code, f.where, f.severity) for f in findings}
    copies = {original: (builder.issue, sample)}
    own = {fields.unsubscribe_url, fields.web_url}  # per-recipient links, never fetched
    for lang in others:
        found, copy, edition_fields = _edition_findings(
            articles.articles[lang], builder, lang, settings
        )
        copies[lang] = (builder.parts(lang).issue, copy)
        own.add(edition_fields.web_url)
        findings += [
            replace(f, where=f"{lang} edition: {f.where}" if f.where else f"{lang} edition")
            for f in found
            if (f.code, f.where, f.severity) not in seen
        ]
    findings += reading_findings(articles)
    if links:
        findings += check_links(_links(copy.html for _, copy in copies.values()) - own)
    score = spam_score(sample.data) if spam else None
    if score is not None:
        findings += spam_findings(score)
    issue = builder.issue
    readings = to_review(articles)
    report = build_report(issue, sample, findings, editions=builder.editions.langs)
    every = articles.conversion.readings if articles.conversion else ()
    return Checked(issue, sample, report, score, copies, readings, every)


def _links(pages: Iterable[str]) -> set[str]:
    """Every edition's link targets."""
    return {
        anchor.get("href", "")
        for page in pages
        for anchor in lxml.html.document_fromstring(page.encode("utf-8")).iter("a")
    }


def _edition_findings(
    article: Article, builder: MessageBuilder, edition: str, settings: Settings
) -> tuple[list[Finding], Composed, RecipientFields]:
    """The rules on one edition's sample copy (and on its untracked copy, when tracked)."""
    parts = builder.parts(edition)
    envelope = builder.envelope(sample_recipient(settings, edition))
    sample = builder.message(envelope)
    findings = run_rules(Inspection.of(article, parts.issue, sample, envelope.fields, settings))
    if parts.authored is not parts.issue:  # tracked links hide the author's from the link rules
        findings = _with_authored_links(article, builder, edition, settings, findings)
    return findings, sample, envelope.fields


def _with_authored_links(
    article: Article,
    builder: MessageBuilder,
    edition: str,
    settings: Settings,
    tracked: list[Finding],
) -> list[Finding]:
    """The findings on the author's links, then those only the tracked copy has (its size)."""
    authored_issue = builder.parts(edition).authored
    untracked = MessageBuilder(authored_issue, settings, campaign=builder.campaign)
    envelope = untracked.envelope(sample_recipient(settings))
    authored = run_rules(
        Inspection.of(
            article, authored_issue, untracked.message(envelope), envelope.fields, settings
        )
    )
    seen = {(f.code, f.where) for f in authored}
    return authored + [f for f in tracked if (f.code, f.where) not in seen]


def build(article_path: Path, settings: Settings) -> BuildResult:
    """Check the article, then write build/<slug>/ in one step, each other edition in a
    folder of its own (build/<slug>/zh-Hans/)."""
    checked = check(article_path, settings)
    issue, report = checked.issue, checked.report
    out_dir = settings.build_dir / issue.slug
    files = {"report.json": json.dumps(report.as_dict(), ensure_ascii=False, indent=2).encode()}
    for n, (lang, (edition, sample)) in enumerate(checked.editions.items()):
        folder = f"{lang}/" if n else ""
        files |= {
            f"{folder}email.html": sample.html.encode("utf-8"),
            f"{folder}email.txt": sample.text.encode("utf-8"),
            f"{folder}email.mjml": edition.mjml.encode("utf-8"),
            f"{folder}email.eml": sample.data,
        }
    replace_dir(
        out_dir,
        files,
        what="the build of an issue",
        earlier=(
            "email.*",
            "report.json",
            "email-*.png",
        ),  # builds (and screenshots) before markers
    )
    return BuildResult(out_dir, issue, report)
