"""The QA gate: no send path delivers a message that `newsletter check` calls an error.

`send` (real and dry run), `campaigns run-due`, `resume` and `retry` all examine the exact
message they are about to send, built by the campaign's own builder from the issue's
snapshot, with every `check` rule and SpamAssassin when installed. An error stops the send
unless the campaign carries a `--force` reason, which is stored and shown by `campaigns show`.

SpamAssassin takes most of a second to start, so its score is computed in the background
while the campaign is prepared (its audience frozen, its first batch claimed and built); the
first message waits for it. Every other rule answers in milliseconds and is enforced first.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from newsletter.compose.editions import ArticleEditions
from newsletter.config import Settings
from newsletter.delivery.states import Override
from newsletter.errors import NewsletterError
from newsletter.qa.build import examine
from newsletter.qa.findings import Finding
from newsletter.qa.spam import SpamScore, spam_findings, spam_score
from newsletter.render.mime import MessageBuilder

__all__ = ["Examination", "Refused", "enforce", "inspect", "override_for"]


class Refused(NewsletterError):
    """The message has QA errors and nobody forced the send; ``findings`` says which."""

    def __init__(self, message: str, findings: Sequence[Finding]):
        super().__init__(message)
        self.findings = list(findings)


@dataclass
class Examination:
    """The findings on one exact message: the rules' at once, SpamAssassin's when it answers."""

    rules: list[Finding]
    _thread: threading.Thread
    _score: list[SpamScore | BaseException | None] = field(default_factory=list)

    def findings(self) -> list[Finding]:
        """Every finding, errors first; waits for SpamAssassin."""
        self._thread.join()
        (score,) = self._score
        if isinstance(score, BaseException):
            raise score
        spam = spam_findings(score) if score is not None else []
        return sorted([*self.rules, *spam], key=lambda f: f.severity != "error")


def inspect(articles: ArticleEditions, builder: MessageBuilder, settings: Settings) -> Examination:
    """Run every rule on each edition's copy ``builder`` would send; SpamAssassin (on the
    original's) starts in the background."""
    checked = examine(articles, builder, settings)
    outcome: list[SpamScore | BaseException | None] = []

    def score() -> None:
        try:
            outcome.append(spam_score(checked.sample.data))
        except Exception as exc:  # handed to whoever asks for the findings, as one line
            outcome.append(
                NewsletterError(
                    f"SpamAssassin could not score the message ({' '.join(str(exc).split())}); "
                    "check it with `spamassassin --lint`, or uninstall it to skip the score"
                )
            )

    thread = threading.Thread(target=score, name="spamassassin", daemon=True)
    thread.start()
    return Examination(list(checked.report.findings), thread, outcome)


def enforce(findings: Sequence[Finding], override: Override | None) -> None:
    """Raise Refused when a finding is an error, unless --force was given for that error."""
    covered = override.codes if override else frozenset()
    errors = [f for f in findings if f.severity == "error" and f.code not in covered]
    if errors:
        codes = ", ".join(dict.fromkeys(f.code for f in errors))
        raise Refused(
            f"not sent: {len(errors)} QA {'error' if len(errors) == 1 else 'errors'} ({codes}); fix them (`newsletter check` "
            'explains each) or send anyway with --force "why"',
            errors,
        )


def override_for(reason: str | None, findings: Sequence[Finding]) -> Override | None:
    """What `--force REASON` covers: the errors there are now, and no later ones."""
    if not reason:
        return None
    return Override(reason, frozenset(f.code for f in findings if f.severity == "error"))
