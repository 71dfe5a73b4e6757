"""What would go wrong in an inbox: size against Gmail's clip, missing alt text, non-https links.

The full QA suite (issue 5) builds on this; build prints it and fails on error findings.
"""

from __future__ import annotations

import email
from dataclasses import asdict, dataclass, field
from email.message import Message
from typing import Literal

import lxml.html
from lxml.html import HtmlElement

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
    *, subject: str, preheader: str, lang: str, reading_minutes: int, html: str, message: bytes
) -> Report:
    """Measure the sample recipient's message, exactly as it would be sent."""
    html_bytes = len(html.encode("utf-8"))
    encoded = _encoded_part_size(email.message_from_bytes(message), "text/html")
    tree = lxml.html.document_fromstring(html.encode("utf-8"))
    images, links = _images_without_alt(tree), _non_https_links(tree)
    findings = _size_findings(html_bytes, encoded)
    findings += [
        Finding("warning", "image-alt", f"image without alt text: {src}") for src in images
    ]
    findings += [Finding("warning", "link-https", f"link is not https: {href}") for href in links]
    return Report(
        subject=subject,
        preheader=preheader,
        lang=lang,
        reading_minutes=reading_minutes,
        html_bytes=html_bytes,
        clip_margin_bytes=CLIP_LIMIT - html_bytes,
        html_part_encoded_bytes=encoded,
        message_bytes=len(message),
        images_without_alt=images,
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


def _encoded_part_size(message: Message, content_type: str) -> int:
    for part in message.walk():
        if part.get_content_type() == content_type:
            return len(str(part.get_payload()).encode("ascii"))
    return 0


def _images_without_alt(tree: HtmlElement) -> list[str]:
    return [str(img.get("src", "")) for img in tree.iter("img") if img.get("alt") is None]


def _non_https_links(tree: HtmlElement) -> list[str]:
    hrefs = [str(a.get("href", "")) for a in tree.iter("a")]
    srcs = [str(img.get("src", "")) for img in tree.iter("img")]
    return [url for url in hrefs + srcs if not url.startswith(("https://", "mailto:", "tel:"))]
