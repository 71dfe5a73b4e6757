"""What would go wrong in an inbox: size against Gmail's clip, missing alt text, non-https links.

The full QA suite (issue 5) builds on this; build prints it and fails on error findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import lxml.html
from lxml.html import HtmlElement

from newsletter.issue import RenderedIssue
from newsletter.mime import Composed

__all__ = ["CLIP_LIMIT", "CLIP_WARN", "Finding", "Report", "build_report"]

CLIP_LIMIT = 102_000
"""Gmail hides everything after about 102 KB of HTML behind "[Message clipped]"."""
CLIP_WARN = 90_000
"""Warn with room to spare: the limit is empirical and counted on what Gmail receives."""

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    message: str


@dataclass(frozen=True)
class Report:
    subject: str
    preheader: str
    lang: str
    reading_minutes: int
    html_bytes: int
    clip_margin_bytes: int
    html_part_encoded_bytes: int
    message_bytes: int
    images_without_alt: list[str] = field(default_factory=list)
    non_https_links: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ok": self.ok}


def build_report(
    issue: RenderedIssue,
    sample: Composed,
    *,
    empty_body: bool = False,
    notes: Sequence[Finding] = (),
) -> Report:
    """Measure the sample recipient's message, exactly as it would be sent."""
    html_bytes = len(sample.html.encode("utf-8"))
    tree = lxml.html.document_fromstring(sample.html.encode("utf-8"))
    missing, empty = _images_without_alt(tree)
    links = _non_https_links(tree)
    findings = _size_findings(html_bytes, sample.html_part_bytes)
    findings += [
        Finding("warning", "image-alt", f"image without alt text: {src}") for src in missing
    ]
    findings += [
        Finding(
            "warning",
            "image-alt-empty",
            f"image with empty alt text (fine only if decorative): {src}",
        )
        for src in empty
    ]
    findings += [Finding("warning", "link-https", f"link is not https: {href}") for href in links]
    if empty_body:
        findings.append(Finding("warning", "empty-body", "the article has no body text"))
    findings += notes
    if issue.preheader.strip() == issue.subject.strip():
        findings.append(
            Finding(
                "warning",
                "preheader-subject",
                "the preheader repeats the subject; say something new",
            )
        )
    return Report(
        subject=issue.subject,
        preheader=issue.preheader,
        lang=issue.lang,
        reading_minutes=issue.reading_minutes,
        html_bytes=html_bytes,
        clip_margin_bytes=CLIP_LIMIT - html_bytes,
        html_part_encoded_bytes=sample.html_part_bytes,
        message_bytes=len(sample.data),
        images_without_alt=missing,
        non_https_links=links,
        findings=findings,
    )


def _size_findings(html_bytes: int, encoded: int) -> list[Finding]:
    if html_bytes > CLIP_LIMIT:
        return [
            Finding(
                "error",
                "gmail-clip",
                f"HTML is {html_bytes:,} bytes, over Gmail's {CLIP_LIMIT:,}-byte clip: "
                "the footer with the unsubscribe link would be hidden; shorten the article",
            )
        ]
    findings = []
    if html_bytes > CLIP_WARN:
        findings.append(
            Finding(
                "warning",
                "gmail-clip",
                f"HTML is {html_bytes:,} bytes, within {CLIP_LIMIT - html_bytes:,} of Gmail's clip",
            )
        )
    if encoded > CLIP_LIMIT:
        findings.append(
            Finding(
                "warning",
                "gmail-clip-encoded",
                f"the encoded HTML part is {encoded:,} bytes; some Gmail clients may clip it",
            )
        )
    return findings


def _images_without_alt(tree: HtmlElement) -> tuple[list[str], list[str]]:
    """(images with no alt at all, images whose alt is empty), by src."""
    images = list(tree.iter("img"))
    missing = [str(img.get("src", "")) for img in images if img.get("alt") is None]
    empty = [
        str(img.get("src", ""))
        for img in images
        if img.get("alt") is not None and not img.get("alt").strip()
    ]
    return missing, empty


def _non_https_links(tree: HtmlElement) -> list[str]:
    hrefs = [str(a.get("href")) for a in tree.iter("a") if a.get("href") is not None]
    srcs = [str(img.get("src", "")) for img in tree.iter("img")]
    return [url for url in hrefs + srcs if not url.startswith(("https://", "mailto:", "tel:"))]
