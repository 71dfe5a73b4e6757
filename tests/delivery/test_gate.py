"""`send` never sends what `check` calls an error, on any path, unless forced with a reason."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest

from newsletter.audience.models import Filters, Status
from tests.cli.test_compose import assert_one_line_error
from tests.conftest import SAMPLE_ARTICLE, project_store, run_cli, smtp_env
from tests.delivery.helpers import soon, wait_until
from tests.fakes import smtp as fake_smtp

REASON = "clipped on purpose: a test of the gate"


@pytest.fixture
def clipped(listed: Path) -> Path:
    """An article whose HTML is over Gmail's 102 KB clip: the footer would be hidden."""
    paragraph = "A long sentence about nothing in particular that fills the page. " * 20
    body = "\n\n".join(f"{paragraph} {n}" for n in range(90))
    path = listed / "clipped.md"
    path.write_text(
        f"---\ntitle: Too long\ndate: 2025-09-04\nlang: en\npreheader: Long.\n---\n\n{body}\n",
        "utf-8",
    )
    return path


def test_an_article_over_the_clip_is_refused_by_a_dry_run_and_a_real_send(
    listed: Path, clipped: Path
) -> None:
    dry = run_cli("send", str(clipped), "--dry-run", cwd=listed)
    assert dry.returncode == 1 and "gmail-clip" in dry.stdout and "--force" in dry.stderr
    assert not (listed / "outbox").exists()
    with fake_smtp.running() as server:
        real = run_cli("send", str(clipped), "--yes", cwd=listed, env=smtp_env(server.port))
    assert real.returncode == 1 and "gmail-clip" in real.stdout and "QA error" in real.stderr
    assert server.messages == []
    assert json.loads(run_cli("campaigns", "list", "--json", cwd=listed).stdout) == []


def test_force_sends_it_and_the_reason_is_kept_on_the_campaign(listed: Path, clipped: Path) -> None:
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        forced = run_cli("send", str(clipped), "--force", REASON, "--yes", cwd=listed, env=env)
        assert forced.returncode == 0, forced.stderr
        assert "3 errors" in forced.stdout and "sent anyway" in forced.stdout
    assert len(server.messages) == 13
    (campaign,) = json.loads(run_cli("campaigns", "list", "--json", cwd=listed).stdout)
    shown = run_cli("campaigns", "show", campaign["id"], cwd=listed)
    assert "sent despite QA errors (gmail-clip" in shown.stdout and REASON in shown.stdout
    data = json.loads(run_cli("campaigns", "show", campaign["id"], "--json", cwd=listed).stdout)
    assert data["forced"] == REASON


def test_an_article_nested_deeper_than_an_email_survives_does_not_render(listed: Path) -> None:
    """250 nested <div> once made premailer drop the footer; 10,000 crashed MJML's compiler."""
    deep = listed / "deep.md"
    nested = "<div>" * 250 + "deep" + "</div>" * 250
    deep.write_text(
        f"---\ntitle: Deep\ndate: 2025-09-04\nlang: en\n---\n\nHello.\n\n{nested}\n\nAfter.\n",
        "utf-8",
    )
    for args in (["--dry-run"], ["--yes"]):
        assert_one_line_error(
            run_cli("send", str(deep), *args, cwd=listed, env=smtp_env(1025)),
            "deep.md:9:",
            "nests 33 elements deep",
        )
    assert_one_line_error(run_cli("build", str(deep), cwd=listed), "deep.md:9:", "flatten it")


def test_a_scheduled_issue_that_fails_qa_at_its_time_is_paused_not_sent(listed: Path) -> None:
    """The gate runs again when the time comes: here the postal address setting changed."""
    at = soon(8)  # the send that schedules it must finish first, even on a loaded machine
    article = str(SAMPLE_ARTICLE)
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        assert run_cli("send", article, "--at", at, "--yes", cwd=listed, env=env).returncode == 0
        wait_until(at)
        moved = {**env, "NEWSLETTER_POSTAL_ADDRESS": "PO Box 1, New Place, Kowloon"}
        due = run_cli("campaigns", "run-due", cwd=listed, env=moved)
        assert due.returncode == 1 and "postal-html" in due.stderr
        assert server.messages == []
        (campaign,) = json.loads(run_cli("campaigns", "list", "--json", cwd=listed).stdout)
        assert campaign["status"] == "paused"
        assert dt.datetime.fromisoformat(campaign["send_at"]) <= dt.datetime.now(dt.UTC)
        fixed = run_cli("campaigns", "resume", campaign["id"], "--yes", cwd=listed, env=env)
        assert fixed.returncode == 0, fixed.stderr
    assert len({rcpt[0] for _, rcpt, _ in server.messages}) == len(server.messages) == 13


GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


@pytest.mark.skipif(shutil.which("spamassassin") is None, reason="SpamAssassin is not installed")
def test_a_spam_score_over_five_stops_the_send_before_the_first_message(listed: Path) -> None:
    """With --yes the score is awaited while the campaign is prepared, never skipped."""
    spam = listed / "spam.md"
    spam.write_text(
        f"---\ntitle: Offer\ndate: 2025-09-04\nlang: en\npreheader: An offer.\n---\n\n`{GTUBE}`\n",
        "utf-8",
    )
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        refused = run_cli("send", str(spam), "--yes", cwd=listed, env=env)
        assert refused.returncode == 1 and "spam-score" in refused.stdout, refused.stderr
        assert "QA error" in refused.stderr and server.messages == []
        (campaign,) = json.loads(run_cli("campaigns", "list", "--json", cwd=listed).stdout)
        assert campaign["status"] == "paused" and campaign["counts"]["pending"] == 13
        forced = run_cli("send", str(spam), "--force", REASON, "--yes", cwd=listed, env=env)
        assert forced.returncode == 0, forced.stderr
    assert len({rcpt[0] for _, rcpt, _ in server.messages}) == len(server.messages) == 13


def test_a_force_covers_the_errors_it_was_given_for_and_no_new_ones(
    listed: Path, clipped: Path
) -> None:
    at = soon(8)  # the send that schedules it must finish first, even on a loaded machine
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        scheduled = run_cli(
            "send", str(clipped), "--at", at, "--force", REASON, "--yes", cwd=listed, env=env
        )
        assert scheduled.returncode == 0, scheduled.stderr
        wait_until(at)
        moved = {**env, "NEWSLETTER_POSTAL_ADDRESS": "PO Box 1, New Place, Kowloon"}
        due = run_cli("campaigns", "run-due", cwd=listed, env=moved)
        assert (
            due.returncode == 1 and "postal-text" in due.stderr and "gmail-clip" not in due.stderr
        )
        assert server.messages == []
        (campaign,) = json.loads(run_cli("campaigns", "list", "--json", cwd=listed).stdout)
        shown = json.loads(
            run_cli("campaigns", "show", campaign["id"], "--json", cwd=listed).stdout
        )
        assert "gmail-clip" in shown["forced_for"] and "postal-text" not in shown["forced_for"]
        resumed = run_cli("campaigns", "resume", campaign["id"], "--yes", cwd=listed, env=env)
        assert resumed.returncode == 0, resumed.stderr
    assert len(server.messages) == 13


def test_sending_a_forced_campaign_again_keeps_its_force(listed: Path, clipped: Path) -> None:
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        store = project_store(listed)
        sixth = store.find(Filters(status=Status.SUBSCRIBED))[5].email
        store.close()
        server.refuse_rcpt = {sixth: "530 5.7.0 authentication required"}
        first = run_cli("send", str(clipped), "--force", REASON, "--yes", cwd=listed, env=env)
        assert first.returncode == 1 and len(server.messages) == 5
        server.refuse_rcpt = {}
        again = run_cli("send", str(clipped), "--yes", cwd=listed, env=env)
        assert again.returncode == 0 and "(continuing)" in again.stdout, again.stderr
    assert len({rcpt[0] for _, rcpt, _ in server.messages}) == 13


def test_a_spamassassin_that_fails_stops_the_send_in_one_line(listed: Path, tmp_path: Path) -> None:
    broken = tmp_path / "bin"
    broken.mkdir()
    (broken / "spamassassin").write_text("#!/bin/sh\necho 'config: broken rules' >&2\nexit 2\n")
    (broken / "spamassassin").chmod(0o755)
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        path = {"PATH": f"{broken}{os.pathsep}{os.environ['PATH']}"}
        failed = run_cli("send", str(SAMPLE_ARTICLE), "--yes", cwd=listed, env={**env, **path})
        assert_one_line_error(failed, "SpamAssassin could not score the message")
        assert server.messages == []
        (campaign,) = json.loads(run_cli("campaigns", "list", "--json", cwd=listed).stdout)
        assert campaign["status"] == "paused" and campaign["counts"]["pending"] == 13
        resumed = run_cli("campaigns", "resume", campaign["id"], "--yes", cwd=listed, env=env)
        assert resumed.returncode == 0, resumed.stderr
    assert len({rcpt[0] for _, rcpt, _ in server.messages}) == len(server.messages) == 13
