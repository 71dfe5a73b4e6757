"""The spam score comes from a real, local SpamAssassin (CI installs it; skipped where absent)."""

from __future__ import annotations

import re
import shutil

import pytest

from newsletter.qa.build import check
from newsletter.qa.spam import SpamScore, spam_findings, spam_score
from tests.conftest import SAMPLE_ARTICLE

installed = pytest.mark.skipif(
    shutil.which("spamassassin") is None, reason="SpamAssassin is not installed"
)


@installed
def test_the_sample_message_scores_under_one(settings) -> None:
    checked = check(SAMPLE_ARTICLE, settings, spam=True)
    assert checked.spam is not None and checked.spam.score < 1.0
    assert (
        "HTML_FONT_LOW_CONTRAST" not in checked.spam.rules
        and "MIME_HTML_ONLY" not in checked.spam.rules
    )
    assert not [f for f in checked.report.findings if f.code == "spam-score"]


@installed
def test_a_message_without_date_and_message_id_is_flagged(settings) -> None:
    data = check(SAMPLE_ARTICLE, settings).sample.data
    stripped = re.sub(rb"(Date|Message-ID): [^\r]*\r\n", b"", data)
    score = spam_score(stripped)
    assert score is not None and score.score >= 1.0 and "MISSING_DATE" in score.rules
    (finding,) = spam_findings(score)
    assert finding.severity == "warning" and "MISSING_DATE" in finding.message


def test_scores_from_five_up_are_errors() -> None:
    (finding,) = spam_findings(SpamScore(6.2, ("MISSING_DATE", "MISSING_HEADERS")))
    assert finding.severity == "error" and "6.2" in finding.message
    assert spam_findings(SpamScore(0.4, ("HTML_MESSAGE",))) == []
