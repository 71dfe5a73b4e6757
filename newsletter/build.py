"""`newsletter build`: render an article and write build/<slug>/ for editors and QA."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from newsletter.article import read_article
from newsletter.atomic import replace_dir
from newsletter.config import Settings
from newsletter.issue import RenderedIssue
from newsletter.mime import MessageBuilder, Recipient
from newsletter.render import render_issue
from newsletter.report import Finding, Report, build_report

__all__ = ["BuildResult", "build", "sample_recipient"]


@dataclass(frozen=True)
class BuildResult:
    out_dir: Path
    issue: RenderedIssue
    report: Report


def sample_recipient(settings: Settings) -> Recipient:
    """The fictitious reader whose copy build writes and test sends use."""
    first = settings.sample_name.split()[0] if settings.sample_name.strip() else None
    return Recipient(
        key="sample", email=settings.sample_email, name=settings.sample_name, first_name=first
    )


def build(article_path: Path, settings: Settings) -> BuildResult:
    """Render once, build the sample recipient's message with delivery's code, write it all."""
    article = read_article(article_path)
    issue = render_issue(article, settings)
    recipient = sample_recipient(settings)
    builder = MessageBuilder(issue, settings, campaign=f"build-{issue.slug}")
    sample = builder.compose(recipient)
    notes = []
    if settings.uses_example_secret:
        notes.append(
            Finding(
                "warning",
                "example-secret",
                "secret_key is the public example value: set NEWSLETTER_SECRET_KEY before sending to anyone",
            )
        )
    report = build_report(issue, sample, empty_body=not article.body.strip(), notes=notes)
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
    )
    return BuildResult(out_dir, issue, report)
