"""`newsletter build` and `newsletter check`: render an article for the sample reader and judge it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from newsletter.atomic import replace_dir
from newsletter.compose.article import Article, read_article
from newsletter.config import Settings
from newsletter.qa.findings import Finding, Inspection
from newsletter.qa.linkcheck import check_links
from newsletter.qa.report import Report, build_report
from newsletter.qa.rules import run_rules
from newsletter.qa.spam import SpamScore, spam_findings, spam_score
from newsletter.recipients import first_name_of
from newsletter.render import render_issue
from newsletter.render.issue import RenderedIssue
from newsletter.render.mime import Composed, MessageBuilder, Recipient

__all__ = ["BuildResult", "Checked", "build", "check", "examine", "sample_recipient"]


@dataclass(frozen=True)
class Checked:
    issue: RenderedIssue
    sample: Composed
    report: Report
    spam: SpamScore | None = None


@dataclass(frozen=True)
class BuildResult:
    out_dir: Path
    issue: RenderedIssue
    report: Report


def sample_recipient(settings: Settings) -> Recipient:
    """The fictitious reader whose copy build writes and test sends use."""
    name = settings.sample_name
    return Recipient(
        key="sample", email=settings.sample_email, name=name, first_name=first_name_of(name)
    )


def check(
    article_path: Path, settings: Settings, *, links: bool = False, spam: bool = False
) -> Checked:
    """Render once, build the sample reader's message with delivery's code, run every QA rule.

    With links, every link other than the per-recipient ones is also asked over the network;
    with spam, a local SpamAssassin scores the message (Checked.spam is None when it is absent).
    """
    article = read_article(article_path)
    issue = render_issue(article, settings)
    builder = MessageBuilder(issue, settings, campaign=f"build-{issue.slug}")
    return examine(article, builder, settings, links=links, spam=spam)


def examine(
    article: Article,
    builder: MessageBuilder,
    settings: Settings,
    *,
    links: bool = False,
    spam: bool = False,
) -> Checked:
    """Every QA rule on the sample reader's copy of exactly what ``builder`` sends."""
    issue = builder.issue
    envelope = builder.envelope(sample_recipient(settings))
    sample = builder.message(envelope)
    inspection = Inspection.of(article, issue, sample, envelope.fields, settings)
    findings = run_rules(inspection)
    if builder.authored is not issue:  # tracked links hide the author's from the link rules
        findings = _with_authored_links(article, builder, settings, findings)
    if links:
        own = {envelope.fields.unsubscribe_url, envelope.fields.web_url}
        findings += check_links(
            a.get("href", "") for a in inspection.tree.iter("a") if a.get("href") not in own
        )
    score = spam_score(sample.data) if spam else None
    if score is not None:
        findings += spam_findings(score)
    return Checked(issue, sample, build_report(issue, sample, findings), score)


def _with_authored_links(
    article: Article, builder: MessageBuilder, settings: Settings, tracked: list[Finding]
) -> list[Finding]:
    """The findings on the author's links, then those only the tracked copy has (its size)."""
    untracked = MessageBuilder(builder.authored, settings, campaign=builder.campaign)
    envelope = untracked.envelope(sample_recipient(settings))
    authored = run_rules(
        Inspection.of(
            article, builder.authored, untracked.message(envelope), envelope.fields, settings
        )
    )
    seen = {(f.code, f.where) for f in authored}
    return authored + [f for f in tracked if (f.code, f.where) not in seen]


def build(article_path: Path, settings: Settings) -> BuildResult:
    """Check the article, then write build/<slug>/ in one step."""
    checked = check(article_path, settings)
    issue, sample, report = checked.issue, checked.sample, checked.report
    out_dir = settings.build_dir / issue.slug
    replace_dir(
        out_dir,
        {
            "email.html": sample.html.encode("utf-8"),
            "email.txt": sample.text.encode("utf-8"),
            "email.mjml": issue.mjml.encode("utf-8"),
            "email.eml": sample.data,
            "report.json": json.dumps(report.as_dict(), ensure_ascii=False, indent=2).encode(
                "utf-8"
            ),
        },
        what="the build of an issue",
        earlier=(
            "email.*",
            "report.json",
            "email-*.png",
        ),  # builds (and screenshots) before markers
    )
    return BuildResult(out_dir, issue, report)
