"""One copy of an issue per reader, whatever the campaigns: segments, repeats, processes, hosts.

Every count is taken at the fake provider, as the readers' inboxes would see it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from newsletter.audience.models import Filters
from newsletter.audience.store import Consent, Store
from newsletter.delivery.journal import Journal
from newsletter.delivery.runner import run_campaign
from newsletter.delivery.states import CampaignStatus, RowState
from newsletter.providers.base import Failed, RetryLater, Sent
from newsletter.render.mime import MessageBuilder
from tests.conftest import (
    SAMPLE_ARTICLE,
    import_people,
    run_cli,
    sendgrid_env,
    smtp_env,
)
from tests.delivery.helpers import open_campaign, rendered, repo_settings
from tests.fakes import sendgrid as fake_sendgrid
from tests.fakes import smtp as fake_smtp

ARTICLE = str(SAMPLE_ARTICLE)


def readers(count: int) -> list[str]:
    """Every other reader reads English."""
    return [
        f"reader{n}@example.org,Reader {n},{'en' if n % 2 else 'zh-Hant'}" for n in range(count)
    ]


def start_send(project: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "newsletter", "send", ARTICLE, "--yes", *args],
        cwd=project,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_full_send_and_a_segment_started_together_mail_each_reader_once(project: Path) -> None:
    import_people(project, readers(2400))
    with fake_sendgrid.running(decide=lambda n: "slow", slow_seconds=0.4, validate=False) as fake:
        env = sendgrid_env(fake.url)
        everyone = start_send(project, env)
        time.sleep(0.3)
        english = start_send(project, env, "--lang", "en")
        for process in (everyone, english):
            _, errors = process.communicate(timeout=120)
            assert process.returncode == 0, errors
        received = fake.recipients()
    assert len(received) == 2400 and set(received.values()) == {1}
    campaigns = json.loads(run_cli("campaigns", "list", "--json", cwd=project).stdout)
    assert len(campaigns) == 2 and len({c["issue"] for c in campaigns}) == 1
    assert sum(c["counts"]["sent"] for c in campaigns) == 2400


def test_a_segment_sent_while_the_full_send_is_paused_is_not_sent_again_by_it(
    project: Path,
) -> None:
    import_people(project, readers(1200))
    with fake_sendgrid.running(plan=["ok", "400"]) as fake:
        env = sendgrid_env(fake.url)
        paused = run_cli("send", ARTICLE, "--yes", cwd=project, env=env)
        assert paused.returncode == 1 and "paused" in paused.stderr
        segment = run_cli("send", ARTICLE, "--lang", "en", "--yes", cwd=project, env=env)
        assert segment.returncode == 0, segment.stderr
        rest = run_cli("send", ARTICLE, "--yes", cwd=project, env=env)
        assert rest.returncode == 0 and "(continuing)" in rest.stdout, rest.stderr
        received = fake.recipients()
    assert len(received) == 1200 and set(received.values()) == {1}
    full = next(
        c
        for c in json.loads(run_cli("campaigns", "list", "--json", cwd=project).stdout)
        if c["label"] == "2025-09-04-ai-blockchain-healthcare"
    )
    shown = json.loads(run_cli("campaigns", "show", full["id"], "--json", cwd=project).stdout)
    skipped = [r for r in shown["recipients"] if r["state"] == "skipped"]
    assert len(skipped) == 100 and all(
        "had this issue from campaign" in r["reason"] for r in skipped
    )


def test_segments_by_tags_in_any_script_are_different_campaigns(project: Path) -> None:
    import_people(
        project,
        [f"hk{n}@example.org,HK {n},en,香港" for n in range(3)]
        + [f"tw{n}@example.org,TW {n},en,台灣" for n in range(3)]
        + [f"x{n}@example.org,X {n},en,x--lang-en" for n in range(2)]
        + [f"y{n}@example.org,Y {n},en,x" for n in range(2)],
        header="email,name,lang,tags",
    )
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        for tag in ("香港", "台灣", "x--lang-en"):
            result = run_cli("send", ARTICLE, "--tag", tag, "--yes", cwd=project, env=env)
            assert result.returncode == 0, result.stderr
        result = run_cli(
            "send", ARTICLE, "--tag", "x", "--lang", "en", "--yes", cwd=project, env=env
        )
        assert result.returncode == 0, result.stderr
    delivered = Counter(rcpt[0] for _, rcpt, _ in server.messages)
    assert len(delivered) == 10 and set(delivered.values()) == {1}
    labels = {
        c["label"] for c in json.loads(run_cli("campaigns", "list", "--json", cwd=project).stdout)
    }
    assert labels == {
        "2025-09-04-ai-blockchain-healthcare (tag 香港)",
        "2025-09-04-ai-blockchain-healthcare (tag 台灣)",
        "2025-09-04-ai-blockchain-healthcare (tag x--lang-en)",
        "2025-09-04-ai-blockchain-healthcare (tag x, lang en)",
    }
    shown = run_cli(
        "campaigns", "show", "2025-09-04-ai-blockchain-healthcare (tag 台灣)", cwd=project
    )
    assert shown.returncode == 0 and "sent: 3" in shown.stdout


def test_two_hosts_sending_one_issue_on_one_database_mail_each_reader_once(
    project: Path, database_url: str
) -> None:
    """Two processes with their own folders (their own outbox and lock files), one database."""
    shared = {"NEWSLETTER_DATABASE_URL": database_url}
    import_people(project, readers(3000), env=shared)
    with fake_sendgrid.running(decide=lambda n: "slow", slow_seconds=0.3, validate=False) as fake:
        hosts = []
        for name in ("host-a", "host-b"):
            env = {**sendgrid_env(fake.url), **shared, "NEWSLETTER_OUTBOX_DIR": str(project / name)}
            hosts.append(start_send(project, env))
        outcomes = [process.communicate(timeout=120) for process in hosts]
        received = fake.recipients()
    codes = [process.returncode for process in hosts]
    assert 0 in codes, outcomes
    for code, (_, errors) in zip(codes, outcomes, strict=True):
        assert code == 0 or "another process is sending campaign" in errors, errors
    assert len(received) == 3000 and set(received.values()) == {1}


def test_a_reader_claimed_by_one_campaign_is_skipped_by_the_other(store: Store) -> None:
    """The claim itself, on SQLite and PostgreSQL: two campaigns of one issue, interleaved."""
    for n in range(10):
        store.add(f"reader{n}@example.org", lang="en" if n % 2 else "zh-Hant", consent=Consent("t"))
    journal = Journal(store)
    everyone = journal.start(open_campaign(store, campaign_id="everyone")).id
    english = journal.start(
        open_campaign(store, campaign_id="english", filters=Filters(lang="en"))
    ).id
    first = journal.claim(english, 3)
    second = journal.claim(everyone, 10)
    third = journal.claim(english, 3)
    assert first is not None and second is not None and third is not None
    taken = [r.email for _, r in first.recipients + second.recipients + third.recipients]
    assert len(taken) == len(set(taken)) == 10
    assert (second.skipped, third.skipped) == (3, 2)
    assert journal.counts(english)[RowState.SKIPPED] == 2


def test_a_campaign_cancelled_mid_send_claims_nobody_further(project: Path) -> None:
    import_people(project, readers(3000))
    with fake_sendgrid.running(decide=lambda n: "slow", slow_seconds=4.0, validate=False) as fake:
        env = sendgrid_env(fake.url)
        running = start_send(project, env)
        deadline = time.monotonic() + 60
        while fake.requests < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        (campaign,) = json.loads(run_cli("campaigns", "list", "--json", cwd=project).stdout)
        cancelled = run_cli("campaigns", "cancel", campaign["id"], "--yes", cwd=project)
        assert cancelled.returncode == 0, cancelled.stderr
        out, errors = running.communicate(timeout=60)
        assert running.returncode == 0 and "was cancelled while it ran" in out, errors
        sent_before = sum(fake.recipients().values())
        assert sent_before < 3000
        rest = run_cli("send", ARTICLE, "--yes", cwd=project, env=env)
        assert rest.returncode == 0 and "(new)" in rest.stdout, rest.stderr
        received = fake.recipients()
    assert len(received) == 3000 and set(received.values()) == {1}
    shown = json.loads(run_cli("campaigns", "show", campaign["id"], "--json", cwd=project).stdout)
    assert shown["status"] == "cancelled"
    assert shown["counts"]["cancelled"] == 3000 - sent_before


class CancelledMidBatch:
    """A provider during whose first batch another process cancels the campaign, and that
    defers the whole batch (as a greylisting server would)."""

    name = "cancelled-mid-batch"
    max_batch = 2

    def __init__(self, store: Store, campaign_id: str):
        self.store, self.campaign_id, self.calls, self.sent = store, campaign_id, 0, []

    def send(self, batch):
        self.calls += 1
        if self.calls == 1:
            Journal(self.store).cancel(self.campaign_id)
            return [RetryLater("451 greylisted") for _ in batch]
        self.sent += [envelope.recipient.email for envelope in batch]
        return [Sent("x") for _ in batch]

    def close(self) -> None:
        """Nothing to close."""


def test_readers_deferred_in_the_batch_a_cancel_caught_are_not_sent_later(store: Store) -> None:
    for n in range(6):
        store.add(f"reader{n}@example.org", consent=Consent("t"))
    journal = Journal(store)
    campaign = journal.start(open_campaign(store)).id
    provider = CancelledMidBatch(store, campaign)
    builder = MessageBuilder(rendered()[1], repo_settings(), campaign=campaign)
    run_campaign(journal, campaign, provider, builder, max_failures=10, sleep=lambda _: None)
    assert provider.calls == 1 and provider.sent == []
    counts = journal.counts(campaign)
    assert counts[RowState.CANCELLED] == 6 and journal.campaign(campaign).status == "cancelled"


def test_cancelling_a_campaign_gives_its_readers_back_to_the_one_that_skipped_them(
    store: Store,
) -> None:
    for n in range(4):
        store.add(f"reader{n}@example.org", lang="en", consent=Consent("t"))
    journal = Journal(store)
    english = journal.start(open_campaign(store, campaign_id="en", filters=Filters(lang="en"))).id
    everyone = journal.start(open_campaign(store, campaign_id="all")).id
    claim = journal.claim(english, 10)
    journal.record(
        english, claim.batch, [(i, Failed("550 relay denied")) for i, _ in claim.recipients]
    )
    assert journal.claim(everyone, 10).skipped == 4
    journal.set_status(everyone, CampaignStatus.FINISHED)
    journal.cancel(english)
    assert journal.campaign(everyone).status == "paused"
    again = journal.claim(everyone, 10)
    assert again is not None and len(again.recipients) == 4
