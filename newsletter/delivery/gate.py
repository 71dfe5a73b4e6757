"""The QA gate: no send path delivers a message that `newsletter check` calls an error.

`send` (real and dry run), `campaigns run-due`, `resume` and `retry` all examine the exact
message they are about to send, built by the campaign's own builder from the issue's
snapshot, with every `check` rule (and SpamAssassin when installed). An error stops the send
unless the campaign carries a `--force` reason, which is stored and shown by `campaigns show`.
"""

from __future__ import annotations

from collections.abc import Sequence

from newsletter.article import Article
from newsletter.build import examine
from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.mime import MessageBuilder
from newsletter.qa import Finding

__all__ = ["Refused", "enforce", "inspect"]


class Refused(NewsletterError):
    """The message has QA errors and nobody forced the send; ``findings`` says which."""

    def __init__(self, message: str, findings: Sequence[Finding]):
        super().__init__(message)
        self.findings = list(findings)


def inspect(article: Article, builder: MessageBuilder, settings: Settings) -> list[Finding]:
    """Every finding on the copy ``builder`` would send, errors first."""
    return list(examine(article, builder, settings, spam=True).report.findings)


def enforce(findings: Sequence[Finding], forced: str | None) -> None:
    """Raise Refused when a finding is an error, unless the send was forced (with a reason)."""
    errors = [f for f in findings if f.severity == "error"]
    if errors and not forced:
        codes = ", ".join(dict.fromkeys(f.code for f in errors))
        raise Refused(
            f"not sent: {len(errors)} QA error(s) ({codes}); fix them (`newsletter check` "
            'explains each) or send anyway with --force "why"',
            errors,
        )
