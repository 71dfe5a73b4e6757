"""The build report: sizes against Gmail's clip, and the QA findings (newsletter/qa/rules.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from newsletter.qa.findings import Finding
from newsletter.qa.size import CLIP_LIMIT
from newsletter.render.issue import RenderedIssue
from newsletter.render.mime import Composed

__all__ = ["Report", "build_report"]


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
    editions: list[str] = field(default_factory=list)
    """Every edition's language, the original first (newsletter.render.editions)."""

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def counts(self) -> dict[str, int]:
        return {s: sum(f.severity == s for f in self.findings) for s in ("error", "warning")}

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ok": self.ok}


def build_report(
    issue: RenderedIssue,
    sample: Composed,
    findings: Sequence[Finding],
    *,
    editions: Sequence[str] = (),
) -> Report:
    """Sizes of the sample reader's message exactly as it would be sent, with the findings."""
    html_bytes = len(sample.html.encode("utf-8"))
    return Report(
        subject=issue.subject,
        preheader=issue.preheader,
        lang=issue.lang,
        reading_minutes=issue.reading_minutes,
        html_bytes=html_bytes,
        clip_margin_bytes=CLIP_LIMIT - html_bytes,
        html_part_encoded_bytes=sample.html_part_bytes,
        message_bytes=len(sample.data),
        images_without_alt=[f.where for f in findings if f.code == "image-alt"],
        non_https_links=[f.where for f in findings if f.code in ("link-https", "image-https")],
        findings=list(findings),
        editions=list(editions) or [issue.lang],
    )
