"""Scheduling is ours: nobody is claimed before the time, who leaves meanwhile is not mailed."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from newsletter.delivery.schedule import describe, parse_when
from newsletter.errors import NewsletterError
from tests.conftest import SAMPLE_ARTICLE, project_store, run_cli, sendgrid_env, smtp_env
from tests.delivery.helpers import soon, wait_until
from tests.fakes import sendgrid as fake_sendgrid
from tests.fakes import smtp as fake_smtp

ARTICLE = str(SAMPLE_ARTICLE)
NOW = dt.datetime(2025, 9, 4, 0, 0, tzinfo=dt.UTC)


def campaigns(project: Path) -> list[dict]:
    return json.loads(run_cli("campaigns", "list", "--json", cwd=project).stdout)


def test_a_local_time_is_read_in_the_editors_zone_and_shown_in_both() -> None:
    when = parse_when("2025-09-05T08:00", "Asia/Hong_Kong", now=NOW)
    assert when == dt.datetime(2025, 9, 5, 0, 0, tzinfo=dt.UTC)
    assert describe(when, "Asia/Hong_Kong") == "2025-09-05 08:00 HKT (+08:00), 2025-09-05 00:00 UTC"
    assert parse_when("2025-09-05T08:00+08:00", None, now=NOW) == when
    summer = parse_when("2025-09-05T08:00", "Europe/London", now=NOW)
    assert summer == dt.datetime(2025, 9, 5, 7, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("value", "zone", "words"),
    [
        ("2025-09-05T08:00", None, "no time zone"),
        ("2025-09-03T08:00Z", None, "in the past"),
        ("2027-09-05T08:00Z", None, "more than a year ahead"),
        ("next friday", None, "not a time"),
        ("2025-09-05T08:00", "Hong Kong", "not a time zone"),
        ("2025-09-05T08:00", "America", "not a time zone"),
    ],
)
def test_a_bad_time_says_what_to_write(value: str, zone: str | None, words: str) -> None:
    with pytest.raises(NewsletterError, match=words):
        parse_when(value, zone, now=NOW)


def test_a_scheduled_campaign_claims_nobody_before_its_time(listed: Path) -> None:
    at = soon(15)  # two CLI runs must fit before it, even on a loaded machine
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        scheduled = run_cli("send", ARTICLE, "--at", at, "--yes", cwd=listed, env=env)
        assert scheduled.returncode == 0 and "Scheduled" in scheduled.stdout, scheduled.stderr
        (campaign,) = campaigns(listed)
        assert campaign["status"] == "scheduled" and sum(campaign["counts"].values()) == 0
        early = run_cli("campaigns", "run-due", cwd=listed, env=env)
        assert early.returncode == 0 and server.messages == []
        store = project_store(listed)
        store.unsubscribe("lin.yating@example.net", actor="web", reason="one-click")
        store.close()
        wait_until(at)
        due = run_cli("campaigns", "run-due", cwd=listed, env=env)
        assert due.returncode == 0, due.stderr
        assert "sent 12" in due.stdout
        again = run_cli("campaigns", "run-due", cwd=listed, env=env)
        assert again.returncode == 0 and again.stdout == ""
    delivered = Counter(rcpt[0] for _, rcpt, _ in server.messages)
    assert len(delivered) == 12 and set(delivered.values()) == {1}
    assert "lin.yating@example.net" not in delivered
    (campaign,) = campaigns(listed)
    assert campaign["status"] == "finished" and campaign["counts"]["sent"] == 12


def test_a_cancelled_schedule_sends_nothing_and_frees_the_readers(listed: Path) -> None:
    at = soon(8)  # the send that schedules it must finish first, even on a loaded machine
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        assert run_cli("send", ARTICLE, "--at", at, "--yes", cwd=listed, env=env).returncode == 0
        label = campaigns(listed)[0]["label"]
        cancelled = run_cli("campaigns", "cancel", label, "--yes", cwd=listed, env=env)
        assert cancelled.returncode == 0 and "Cancelled" in cancelled.stdout
        wait_until(at)
        assert run_cli("campaigns", "run-due", cwd=listed, env=env).returncode == 0
        assert server.messages == []
        now = run_cli("send", ARTICLE, "--yes", cwd=listed, env=env)
        assert now.returncode == 0 and "(new)" in now.stdout, now.stderr
    assert len({rcpt[0] for _, rcpt, _ in server.messages}) == len(server.messages) == 13
    statuses = sorted(c["status"] for c in campaigns(listed))
    assert statuses == ["cancelled", "finished"]


def test_the_confirmation_shows_the_time_in_the_editors_zone_and_in_utc(listed: Path) -> None:
    local = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).astimezone(
        dt.timezone(dt.timedelta(hours=8))
    )
    typed = local.strftime("%Y-%m-%dT%H:%M")
    env = {**smtp_env(1025), "NEWSLETTER_TIMEZONE": "Asia/Hong_Kong"}
    result = run_cli("send", ARTICLE, "--at", typed, "--yes", cwd=listed, env=env)
    assert result.returncode == 0, result.stderr
    assert f"{local:%Y-%m-%d %H:%M} HKT (+08:00)" in result.stdout
    assert f"{local.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC" in result.stdout


def test_a_schedule_moves_with_a_new_time_and_a_plain_send_is_refused(listed: Path) -> None:
    env = smtp_env(1025)
    first, second = soon(3600), soon(7200)
    assert run_cli("send", ARTICLE, "--at", first, "--yes", cwd=listed, env=env).returncode == 0
    moved = run_cli("send", ARTICLE, "--at", second, "--yes", cwd=listed, env=env)
    assert moved.returncode == 0 and "(continuing)" in moved.stdout, moved.stderr
    (campaign,) = campaigns(listed)
    assert dt.datetime.fromisoformat(campaign["send_at"]) == dt.datetime.fromisoformat(second)
    now = run_cli("send", ARTICLE, "--yes", cwd=listed, env=env)
    assert now.returncode == 1 and "is scheduled for" in now.stderr and "resume" in now.stderr


def test_a_dry_run_with_a_time_says_when_and_records_nothing(listed: Path) -> None:
    at = soon(3600)
    result = run_cli("send", ARTICLE, "--at", at, "--dry-run", cwd=listed)
    assert result.returncode == 0 and "Would be scheduled for" in result.stdout, result.stderr
    assert "13 messages" in result.stdout and campaigns(listed) == []


def test_retry_of_a_campaign_that_has_not_started_is_refused(listed: Path) -> None:
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        assert (
            run_cli("send", ARTICLE, "--at", soon(3600), "--yes", cwd=listed, env=env).returncode
            == 0
        )
        (campaign,) = campaigns(listed)
        retried = run_cli(
            "campaigns", "retry", campaign["id"], "--failed", "--yes", cwd=listed, env=env
        )
    assert retried.returncode == 1 and "has not started" in retried.stderr
    assert server.messages == [] and campaigns(listed)[0]["status"] == "scheduled"


def test_a_provider_named_again_is_the_one_the_rest_goes_through(listed: Path) -> None:
    with fake_smtp.running() as server, fake_sendgrid.running() as fake:
        smtp, sendgrid = smtp_env(server.port), sendgrid_env(fake.url)
        both = {**smtp, **{k: v for k, v in sendgrid.items() if k != "NEWSLETTER_PROVIDER"}}
        assert (
            run_cli("send", ARTICLE, "--at", soon(3600), "--yes", cwd=listed, env=smtp).returncode
            == 0
        )
        moved = run_cli(
            "send",
            ARTICLE,
            "--at",
            soon(7200),
            "--provider",
            "sendgrid",
            "--yes",
            cwd=listed,
            env=both,
        )
        assert moved.returncode == 0 and "sendgrid" in moved.stdout, moved.stderr
        (campaign,) = campaigns(listed)
        resumed = run_cli("campaigns", "resume", campaign["id"], "--yes", cwd=listed, env=both)
        assert resumed.returncode == 0, resumed.stderr
    assert server.messages == [] and sum(fake.recipients().values()) == 13
