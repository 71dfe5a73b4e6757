"""`newsletter send` and `newsletter campaigns`, as real subprocesses against real servers."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsletter.audience.models import Filters, Status
from newsletter.audience.store import Store
from newsletter.delivery.events import apply_events
from newsletter.providers.base import ProviderEvent
from tests.cli.test_compose import assert_one_line_error
from tests.conftest import SAMPLE_ARTICLE, SECRET, import_people, run_cli, sendgrid_env, smtp_env
from tests.fakes import sendgrid as fake_sendgrid
from tests.fakes import smtp as fake_smtp

CAMPAIGN = "2025-09-04-ai-blockchain-healthcare"


def test_a_dry_run_builds_every_message_into_the_outbox_and_marks_nobody(listed: Path) -> None:
    result = run_cli("send", str(SAMPLE_ARTICLE), "--dry-run", cwd=listed)
    assert result.returncode == 0, result.stderr
    assert "13 messages (11 zh-Hant, 2 zh-Hans) in 1 batch," in result.stdout
    assert "nobody was contacted" in result.stdout
    outbox = listed / "outbox" / CAMPAIGN
    manifest = [
        json.loads(line) for line in (outbox / "manifest.jsonl").read_text("utf-8").splitlines()
    ]
    assert len(manifest) == 13  # one request per edition, the original's first, as SendGrid gets
    assert {(m["batch"], m["edition"]) for m in manifest} == {(1, "zh-Hant"), (2, "zh-Hans")}
    assert len({m["message_id"] for m in manifest}) == 13
    emls = sorted(outbox.glob("*.eml"))
    assert len(emls) == 13
    for path, line in zip(emls, manifest, strict=True):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message["To"].addresses[0].addr_spec == line["address"]
        assert message["Message-ID"] == line["message_id"] and path.stat().st_size == line["bytes"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert json.loads(run_cli("campaigns", "list", "--json", cwd=listed).stdout) == []


def test_a_dry_run_can_filter_by_language(listed: Path) -> None:
    result = run_cli("send", str(SAMPLE_ARTICLE), "--dry-run", "--lang", "en", cwd=listed)
    assert "5 messages" in result.stdout
    assert (listed / "outbox" / f"{CAMPAIGN}--lang-en" / "manifest.jsonl").exists()


def test_a_real_send_without_a_provider_stops_before_sending(listed: Path) -> None:
    assert_one_line_error(
        run_cli("send", str(SAMPLE_ARTICLE), "--yes", cwd=listed, env=SECRET),
        "no provider is configured",
    )
    result = run_cli(
        "send",
        str(SAMPLE_ARTICLE),
        "--yes",
        cwd=listed,
        env={**SECRET, "NEWSLETTER_PROVIDER": "sendgrid"},
    )
    assert_one_line_error(result, "NEWSLETTER_SENDGRID_API_KEY is not set")
    assert json.loads(run_cli("campaigns", "list", "--json", cwd=listed).stdout) == []


def test_a_real_send_refuses_the_public_example_secret(listed: Path) -> None:
    result = run_cli(
        "send",
        str(SAMPLE_ARTICLE),
        "--yes",
        cwd=listed,
        env={"NEWSLETTER_PROVIDER": "smtp", "NEWSLETTER_SMTP_HOST": "127.0.0.1"},
    )
    assert_one_line_error(result, "secret_key is the public example value")


def test_send_over_smtp_then_again_sends_nothing_more(listed: Path) -> None:
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        first = run_cli("send", str(SAMPLE_ARTICLE), "--yes", cwd=listed, env=env)
        assert first.returncode == 0, first.stderr
        assert re.search(r"Recipients\s+13\b", first.stdout) and re.search(
            r"sent\W+13\W+13\b", first.stdout
        )
        second = run_cli("send", str(SAMPLE_ARTICLE), "--yes", cwd=listed, env=env)
        assert second.returncode == 0 and "(continuing)" in second.stdout
    delivered = [rcpt[0] for _, rcpt, _ in server.messages]
    assert len(delivered) == len(set(delivered)) == 13
    (campaign,) = json.loads(run_cli("campaigns", "list", "--json", cwd=listed).stdout)
    assert campaign["label"] == CAMPAIGN and campaign["status"] == "finished"
    assert campaign["counts"]["sent"] == 13


def test_campaigns_show_and_retry_of_failed_recipients(listed: Path) -> None:
    with fake_smtp.running() as server:
        server.refuse_rcpt = {"lin.yating@example.net": "554 5.7.1 message refused"}
        env = smtp_env(server.port)
        run_cli("send", str(SAMPLE_ARTICLE), "--yes", cwd=listed, env=env)
        shown = json.loads(
            run_cli("campaigns", "show", CAMPAIGN, "--json", cwd=listed, env=env).stdout
        )
        assert shown["counts"]["failed"] == 1 and shown["counts"]["sent"] == 12
        assert shown["recipients"][0]["email"] == "lin.yating@example.net"
        assert shown["recipients"][0]["reason"] == "554 5.7.1 message refused"
        assert_one_line_error(
            run_cli("campaigns", "retry", CAMPAIGN, cwd=listed, env=env), "--failed"
        )
        server.refuse_rcpt = {}
        retried = run_cli("campaigns", "retry", CAMPAIGN, "--failed", "--yes", cwd=listed, env=env)
        assert retried.returncode == 0, retried.stderr
    delivered = [rcpt[0] for _, rcpt, _ in server.messages]
    assert len(delivered) == len(set(delivered)) == 13


def test_campaigns_show_counts_what_the_providers_events_reported(listed: Path) -> None:
    with fake_sendgrid.running() as fake:
        run_cli("send", str(SAMPLE_ARTICLE), "--yes", cwd=listed, env=sendgrid_env(fake.url))
    before = run_cli("campaigns", "show", CAMPAIGN, cwd=listed)
    assert "provider reported  delivered: 0  bounced: 0" in before.stdout
    campaign_id = json.loads(run_cli("campaigns", "list", "--json", cwd=listed).stdout)[0]["id"]
    store = Store.open(f"sqlite:///{listed / 'subscribers' / 'subscribers.db'}")
    try:
        first, second, *rest = [s.id for s in store.find(Filters(status=Status.SUBSCRIBED))]
        moment = dt.datetime.now(dt.UTC)
        apply_events(
            store,
            [
                ProviderEvent("b1", "bounce", moment, None, first, campaign_id, "550 no such user"),
                ProviderEvent("d1", "deferred", moment, None, second, campaign_id),
                *(ProviderEvent(f"ok{i}", "delivered", moment, None, i, campaign_id) for i in rest),
            ],
        )
    finally:
        store.close()
    shown = run_cli("campaigns", "show", CAMPAIGN, cwd=listed)
    assert "provider reported  deferred: 1  delivered: 11  bounced: 1" in shown.stdout
    assert "complained" not in shown.stdout
    data = json.loads(run_cli("campaigns", "show", CAMPAIGN, "--json", cwd=listed).stdout)
    assert data["delivery"] == {
        "processed": 0,
        "deferred": 1,
        "delivered": 11,
        "bounced": 1,
        "dropped": 0,
        "complained": 0,
    }


def test_a_test_send_goes_only_to_the_given_addresses_and_is_not_a_campaign(listed: Path) -> None:
    with fake_smtp.running() as server:
        result = run_cli(
            "send",
            str(SAMPLE_ARTICLE),
            "--test",
            "editor@example.com",
            cwd=listed,
            env=smtp_env(server.port),
        )
        assert result.returncode == 0, result.stderr
    assert [rcpt for _, rcpt, _ in server.messages] == [["editor@example.com"]] * 2
    for _, _, data in server.messages:  # one per edition
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert message["Subject"].startswith("[TEST] ")
    assert "editor@example.com (zh-Hans edition): sent" in result.stdout
    assert json.loads(run_cli("campaigns", "list", "--json", cwd=listed).stdout) == []


def test_declining_the_confirmation_sends_nothing(listed: Path) -> None:
    with fake_smtp.running() as server:
        result = subprocess.run(
            [sys.executable, "-m", "newsletter", "send", str(SAMPLE_ARTICLE)],
            cwd=listed, env={**os.environ, **smtp_env(server.port)}, input="n\n", capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 1 and "Send now?" in result.stdout
    assert server.messages == []


@pytest.mark.parametrize(
    ("when", "words"),
    [
        (["--at", "tomorrow"], "not a time"),
        (["--at", "2025-09-04T08:00"], "no time zone"),
        (["--at", "2020-01-01T00:00Z"], "is in the past"),
        (["--at", "2099-01-01T00:00Z"], "more than a year ahead"),
        (["--at", "2099-01-01T08:00", "--tz", "Mars/Olympus"], "not a time zone"),
    ],
)
def test_a_bad_send_time_is_explained(listed: Path, when: list[str], words: str) -> None:
    assert_one_line_error(
        run_cli("send", str(SAMPLE_ARTICLE), *when, "--yes", cwd=listed, env=SECRET), words
    )
    assert json.loads(run_cli("campaigns", "list", "--json", cwd=listed).stdout) == []


def test_declining_a_retry_moves_nobody(listed: Path) -> None:
    with fake_smtp.running() as server:
        server.refuse_rcpt = {"lin.yating@example.net": "554 5.7.1 message refused"}
        env = smtp_env(server.port)
        run_cli("send", str(SAMPLE_ARTICLE), "--yes", cwd=listed, env=env)
        declined = subprocess.run(
            [sys.executable, "-m", "newsletter", "campaigns", "retry", CAMPAIGN, "--failed"],
            cwd=listed, env={**os.environ, **env}, input="n\n", capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert declined.returncode == 1 and "to 1 recipient?" in declined.stdout
    shown = json.loads(run_cli("campaigns", "show", CAMPAIGN, "--json", cwd=listed).stdout)
    assert shown["counts"]["failed"] == 1 and shown["counts"]["pending"] == 0


def test_an_unknown_provider_is_named(listed: Path) -> None:
    result = run_cli(
        "send", str(SAMPLE_ARTICLE), "--provider", "postmark", "--yes", cwd=listed, env=SECRET
    )
    assert_one_line_error(result, "unknown provider 'postmark'")


def test_a_segment_after_a_full_send_mails_nobody_twice(listed: Path) -> None:
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        run_cli("send", str(SAMPLE_ARTICLE), "--yes", cwd=listed, env=env)
        segment = run_cli("send", str(SAMPLE_ARTICLE), "--lang", "en", "--yes", cwd=listed, env=env)
        assert_one_line_error(segment, "nobody to send to", "has not had this issue")
    delivered = [rcpt[0] for _, rcpt, _ in server.messages]
    assert len(delivered) == len(set(delivered)) == 13


def test_two_sends_of_one_campaign_cannot_run_at_once(listed: Path) -> None:
    from newsletter.delivery.lock import campaign_lock

    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    env = smtp_env(1025)
    scheduled = run_cli("send", str(SAMPLE_ARTICLE), "--at", soon, "--yes", cwd=listed, env=env)
    assert scheduled.returncode == 0, scheduled.stderr
    (campaign,) = json.loads(run_cli("campaigns", "list", "--json", cwd=listed).stdout)
    store = Store.open(f"sqlite:///{listed / 'subscribers' / 'subscribers.db'}")
    try:
        with fake_smtp.running() as server, campaign_lock(store, campaign["id"]):
            result = run_cli(
                "campaigns",
                "resume",
                campaign["id"],
                "--yes",
                cwd=listed,
                env=smtp_env(server.port),
            )
    finally:
        store.close()
    assert_one_line_error(result, "another process is sending campaign", "wait for it")
    assert server.messages == []


def test_an_empty_audience_starts_no_campaign(project: Path) -> None:
    with fake_smtp.running() as server:
        result = run_cli(
            "send", str(SAMPLE_ARTICLE), "--yes", cwd=project, env=smtp_env(server.port)
        )
    assert_one_line_error(result, "nobody to send to", "No campaign was started")
    assert json.loads(run_cli("campaigns", "list", "--json", cwd=project).stdout) == []


def test_a_real_send_refuses_the_shipped_example_identity(listed: Path) -> None:
    """Only the secret was guarded: a send from example.com went out with unreachable links."""
    with fake_smtp.running() as server:
        env = {**smtp_env(server.port), "NEWSLETTER_ENVIRONMENT": "production"}
        result = run_cli("send", str(SAMPLE_ARTICLE), "--yes", cwd=listed, env=env)
    assert_one_line_error(
        result, "base_url, from_email, reply_to, postal_address", "shipped examples"
    )
    assert server.messages == []


def test_an_address_the_smtp_server_says_does_not_exist_is_bounced(listed: Path) -> None:
    """A 550 5.1.1 left the reader subscribed, to be mailed again next week."""
    with fake_smtp.running() as server:
        server.refuse_rcpt = {"lin.yating@example.net": "550 5.1.1 no such user"}
        run_cli("send", str(SAMPLE_ARTICLE), "--yes", cwd=listed, env=smtp_env(server.port))
    shown = run_cli("subscribers", "show", "lin.yating@example.net", "--json", cwd=listed)
    reader = json.loads(shown.stdout)
    assert reader["status"] == "bounced" and reader["history"][-1]["to"] == "bounced"
    assert "550 5.1.1 no such user" in reader["history"][-1]["reason"]
    campaign = run_cli("campaigns", "show", CAMPAIGN, cwd=listed)
    assert "not available over SMTP" in campaign.stdout and "delivered: 0" not in campaign.stdout


def test_without_a_terminal_a_send_asks_for_yes_instead_of_aborting(listed: Path) -> None:
    """Under cron it only said "Aborted."."""
    with fake_smtp.running() as server:
        result = subprocess.run(
            [sys.executable, "-m", "newsletter", "send", str(SAMPLE_ARTICLE)],
            cwd=listed, env={**os.environ, **smtp_env(server.port)}, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 1 and "pass --yes" in result.stderr.strip().splitlines()[-1]
    assert server.messages == []


def test_without_a_terminal_a_send_logs_each_batch_and_each_wait(listed: Path) -> None:
    """A greylisted reader meant minutes of silence under cron."""
    with fake_smtp.running() as server:
        server.refuse_rcpt = {"lin.yating@example.net": "451 4.7.1 greylisted, try again later"}
        env = {**smtp_env(server.port), "NEWSLETTER_SMTP_RETRY_AFTER": "0.2"}
        first = run_cli("send", str(SAMPLE_ARTICLE), "--yes", cwd=listed, env=env)
    assert first.returncode == 0, first.stderr
    assert "batch 1: 12 sent, 0 failed, 1 deferred" in first.stdout
    assert "waiting 0.2 s: 1 reader deferred by the provider (451 4.7.1 greylisted" in first.stdout
    assert first.stdout.count("waiting 0.2 s") == 7  # eight tries, then it is failed
    shown = json.loads(run_cli("campaigns", "show", CAMPAIGN, "--json", cwd=listed).stdout)
    (failed,) = [r for r in shown["recipients"] if r["state"] == "failed"]
    assert failed["reason"].startswith("gave up after 8 tries: 451 4.7.1 greylisted")


def test_sigterm_pauses_a_send_as_ctrl_c_does(listed: Path) -> None:
    """A `timeout` once left the campaign "running" with nobody told."""
    with fake_sendgrid.running(decide=lambda n: "slow", slow_seconds=5) as fake:
        process = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "send", str(SAMPLE_ARTICLE), "--yes"],
            cwd=listed, env={**os.environ, **sendgrid_env(fake.url)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while fake.requests < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=60)
    assert process.returncode == 1 and "interrupted during batch 1" in errors
    (campaign,) = json.loads(run_cli("campaigns", "list", "--json", cwd=listed).stdout)
    assert campaign["status"] == "paused"
    # the zh-Hant request was in flight; the zh-Hans readers were never handed over
    assert (campaign["counts"]["uncertain"], campaign["counts"]["pending"]) == (11, 2)


def test_the_confirmation_shows_the_audience_by_language(listed: Path) -> None:
    """Mailchimp rows without a language silently dropped out of --lang sends."""
    with fake_smtp.running() as server:
        result = run_cli(
            "send", str(SAMPLE_ARTICLE), "--yes", cwd=listed, env=smtp_env(server.port)
        )
    assert result.returncode == 0, result.stderr
    assert re.search(
        r"13: 11 get zh-Hant \(5 en: no edition\s+of theirs\), 2 get zh-Hans", result.stdout
    ), result.stdout


def test_campaigns_list_at_80_columns_shows_whole_ids_issue_audience_and_start(
    listed: Path,
) -> None:
    with fake_smtp.running() as server:
        env = {**smtp_env(server.port), "COLUMNS": "80"}
        run_cli("send", str(SAMPLE_ARTICLE), "--lang", "en", "--yes", cwd=listed, env=env)
        shown = run_cli("campaigns", "list", cwd=listed, env=env).stdout
    (campaign,) = json.loads(run_cli("campaigns", "list", "--json", cwd=listed).stdout)
    assert "…" not in shown
    assert (
        f"{campaign['id']}  finished  {campaign['started_at'][:16].replace('T', ' ')} UTC" in shown
    )
    assert f"{CAMPAIGN} (lang en)" in shown and "5 readers: 5 sent" in shown


def test_several_tags_send_to_readers_with_all_or_any_of_them_in_any_case(project: Path) -> None:
    import_people(
        project,
        ["ada@example.com,Ada,en,Health", "bob@example.com,Bob,en,health;vip",
         "cy@example.com,Cy,en,VIP", "di@example.com,Di,en,"],
        header="email,name,lang,tags",
    )  # fmt: skip
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        first = run_cli("send", str(SAMPLE_ARTICLE), "--tag", "health", "--tag", "vip",
                        "--all-tags", "--yes", cwd=project, env=env)  # fmt: skip
        assert first.returncode == 0, first.stderr
        assert re.search(r"Segment +tag health and vip *\n", first.stdout)
        wider = run_cli("send", str(SAMPLE_ARTICLE), "--tag", "VIP", "--tag", "Health",
                        "--yes", cwd=project, env=env)  # fmt: skip
        assert wider.returncode == 0, wider.stderr
    assert sorted(rcpt[0] for _, rcpt, _ in server.messages) == [
        "ada@example.com", "bob@example.com", "cy@example.com"
    ]  # fmt: skip
