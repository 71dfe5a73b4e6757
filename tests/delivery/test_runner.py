"""Campaigns end to end on real SQLite and real servers: nobody twice, nobody skipped, nobody who left."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import pytest

from newsletter.audience.models import Filters, Status
from newsletter.audience.store import Consent, Store
from newsletter.compose.article import read_article
from newsletter.compose.editions import article_editions
from newsletter.config import Settings
from newsletter.delivery.journal import Journal
from newsletter.delivery.runner import Paused, rehearse, run_campaign
from newsletter.providers.base import ProviderError, Result, Sent
from newsletter.providers.dryrun import DryRunProvider
from newsletter.providers.sendgrid import SendGridProvider
from newsletter.providers.smtp import SmtpProvider
from newsletter.render import render_issue
from newsletter.render.editions import render_editions
from newsletter.render.issue import Editions
from newsletter.render.mime import Envelope, MessageBuilder
from tests.conftest import SAMPLE_ARTICLE
from tests.delivery.helpers import open_campaign
from tests.fakes import sendgrid as fake_sendgrid
from tests.fakes import smtp as fake_smtp

KEY = "SG.test-key-not-real"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "articles"


@pytest.fixture
def issue(settings):
    return render_issue(read_article(SAMPLE_ARTICLE), settings)


def with_smtp(settings: Settings, port: int) -> Settings:
    return Settings(
        **{**settings.model_dump(), "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none"}
    )


def with_sendgrid(settings: Settings, url: str) -> Settings:
    return Settings(**{**settings.model_dump(), "sendgrid_api_key": KEY, "sendgrid_host": url})


def populate(store: Store, count: int) -> None:
    for n in range(count):
        store.add(
            f"reader{n}@example.org",
            name=f"Reader {n}",
            lang="en" if n % 2 else "zh-Hant",
            consent=Consent("test"),
        )


def start(journal: Journal, issue) -> str:
    """Campaign c1 of the sample issue to everyone subscribed: recorded once, started each run."""
    return journal.start(open_campaign(journal.store)).id


class Hooked:
    """A provider that runs a callback before each batch (to act like a web request meanwhile)."""

    def __init__(self, inner, before_batch):
        self.inner, self.before_batch, self.max_batch, self.calls = (
            inner,
            before_batch,
            inner.max_batch,
            0,
        )

    name = "hooked"

    def send(self, batch: Sequence[Envelope]) -> list[Result]:
        self.calls += 1
        self.before_batch(self.calls)
        return self.inner.send(batch)

    def close(self) -> None:
        self.inner.close()


def test_everyone_subscribed_gets_exactly_one_message_and_a_rerun_sends_nothing(
    store, settings, issue, tmp_path
) -> None:
    populate(store, 23)
    store.add("pending@example.org")
    store.unsubscribe("reader5@example.org")
    journal = Journal(store)
    builder = MessageBuilder(issue, settings, campaign="c1")
    outbox = DryRunProvider(builder, tmp_path / "out", max_batch=5)
    summary = run_campaign(journal, start(journal, issue), outbox, builder, max_failures=5)
    assert (summary.sent, summary.batches) == (22, 5)
    again = run_campaign(journal, start(journal, issue), outbox, builder, max_failures=5)
    assert again.sent == 0
    outbox.close()
    manifest = (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()
    addresses = [line.split('"address": "')[1].split('"')[0] for line in manifest]
    assert len(addresses) == len(set(addresses)) == 22
    assert "reader5@example.org" not in addresses and "pending@example.org" not in addresses
    assert journal.campaign("c1").status == "finished"


def test_the_audience_is_frozen_and_leavers_are_skipped_in_later_batches(
    store, settings, issue, tmp_path
) -> None:
    populate(store, 12)
    journal = Journal(store)
    builder = MessageBuilder(issue, settings, campaign="c1")

    def meanwhile(batch: int) -> None:
        if batch == 2:
            store.unsubscribe("reader11@example.org", actor="web", reason="one-click")
            store.add("latecomer@example.org", consent=Consent("web form"))

    provider = Hooked(DryRunProvider(builder, tmp_path / "out", max_batch=4), meanwhile)
    summary = run_campaign(journal, start(journal, issue), provider, builder, max_failures=5)
    provider.close()
    assert (summary.sent, summary.skipped) == (11, 1)
    sent = (tmp_path / "out" / "manifest.jsonl").read_text()
    assert "reader11@example.org" not in sent and "latecomer@example.org" not in sent
    assert journal.counts("c1")["skipped"] == 1


def test_a_storm_of_429s_and_5xx_still_delivers_everyone_exactly_once(
    store, settings, issue
) -> None:
    populate(store, 300)
    storm = ["429", "503", "500", "503"]
    with fake_sendgrid.running(KEY, decide=lambda n: storm[n % 4] if n % 3 == 0 else "ok") as fake:
        configured = with_sendgrid(settings, fake.url)
        builder = MessageBuilder(issue, configured, campaign="c1")
        provider = SendGridProvider(configured, builder, sleep=lambda _: None)
        provider.max_batch = 10
        journal = Journal(store)
        with closing(provider):
            summary = run_campaign(
                journal,
                start(journal, issue),
                provider,
                builder,
                max_failures=5,
                sleep=lambda _: None,
            )
        received = fake.recipients()
    assert summary.sent == 300 and sum(received.values()) == 300 and set(received.values()) == {1}
    assert fake.answers.count(202) == 30 and fake.requests >= 44  # a third of the requests failed


def test_a_refused_api_key_pauses_the_campaign_and_marks_nobody_sent(
    store, settings, issue
) -> None:
    populate(store, 5)
    with fake_sendgrid.running("SG.another-key") as fake:
        configured = with_sendgrid(settings, fake.url)
        builder = MessageBuilder(issue, configured, campaign="c1")
        journal = Journal(store)
        provider = SendGridProvider(configured, builder)
        with closing(provider), pytest.raises(ProviderError, match="refused the API key"):
            run_campaign(journal, start(journal, issue), provider, builder, max_failures=5)
    assert journal.counts("c1")["pending"] == 5 and journal.counts("c1")["sent"] == 0
    assert journal.campaign("c1").status == "paused"


def test_many_failures_in_a_row_pause_instead_of_burning_the_list(store, settings, issue) -> None:
    populate(store, 30)
    with fake_smtp.running() as server:
        server.refuse_rcpt = {
            f"reader{n}@example.org": "550 5.7.1 relaying denied" for n in range(30)
        }
        configured = with_smtp(settings, server.port)
        builder = MessageBuilder(issue, configured, campaign="c1")
        provider = SmtpProvider(configured, builder)
        provider.max_batch = 4
        journal = Journal(store)
        with pytest.raises(
            Paused, match=r"paused after 8 failures in a row; last: 550 5\.7\.1 relaying denied"
        ):
            run_campaign(journal, start(journal, issue), provider, builder, max_failures=8)
        provider.close()
    counts = journal.counts("c1")
    assert (
        counts["failed"] == 8
        and counts["pending"] == 22
        and journal.campaign("c1").status == "paused"
    )


def test_failed_recipients_are_resent_only_when_asked(store, settings, issue, tmp_path) -> None:
    populate(store, 6)
    with fake_smtp.running() as server:
        server.refuse_rcpt = {"reader2@example.org": "550 mailbox full"}
        configured = with_smtp(settings, server.port)
        builder = MessageBuilder(issue, configured, campaign="c1")
        journal = Journal(store)

        def run() -> int:
            provider = SmtpProvider(configured, builder)
            try:
                return run_campaign(
                    journal, start(journal, issue), provider, builder, max_failures=5
                ).sent
            finally:
                provider.close()

        assert run() == 5 and journal.counts("c1")["failed"] == 1
        assert run() == 0
        server.refuse_rcpt = {}
        assert journal.retry("c1", failed=True, uncertain=False) == 1
        assert run() == 1
    assert sorted(rcpt[0] for _, rcpt, _ in server.messages) == sorted(
        f"reader{n}@example.org" for n in range(6)
    )


def test_a_dry_run_contacts_nobody_and_marks_nobody(store, settings, issue, tmp_path: Path) -> None:
    populate(store, 30)
    builder = MessageBuilder(issue, settings, campaign="c1")
    outbox = DryRunProvider(builder, tmp_path / "out", max_batch=7)
    summary = rehearse(store, Filters(lang="en"), outbox, builder)
    outbox.close()
    assert (summary.sent, summary.batches) == (15, 3)
    assert len(list((tmp_path / "out").glob("*.eml"))) == 15
    assert Journal(store).campaigns() == []
    assert store.count(Filters(status=Status.SUBSCRIBED)) == 30


def test_a_login_error_partway_through_a_batch_keeps_what_already_went_out(
    store, settings, issue
) -> None:
    populate(store, 10)
    with fake_smtp.running() as server:
        server.refuse_rcpt = {"reader5@example.org": "530 5.7.0 authentication required"}
        configured = with_smtp(settings, server.port)
        builder = MessageBuilder(issue, configured, campaign="c1")
        journal = Journal(store)
        provider = SmtpProvider(configured, builder)
        with pytest.raises(ProviderError, match="refused the login"):
            run_campaign(journal, start(journal, issue), provider, builder, max_failures=50)
        provider.close()
        assert journal.counts("c1")["sent"] == 5 and journal.counts("c1")["pending"] == 5
        server.refuse_rcpt = {}
        provider = SmtpProvider(configured, builder)
        assert (
            run_campaign(journal, start(journal, issue), provider, builder, max_failures=50).sent
            == 5
        )
        provider.close()
    delivered = [rcpt[0] for _, rcpt, _ in server.messages]
    assert len(delivered) == len(set(delivered)) == 10


def test_ctrl_c_pauses_and_marks_only_the_batch_in_flight_uncertain(
    store, settings, issue, tmp_path
) -> None:
    populate(store, 12)
    journal = Journal(store)
    builder = MessageBuilder(issue, settings, campaign="c1")

    def interrupt(batch: int) -> None:
        if batch == 2:
            raise KeyboardInterrupt

    provider = Hooked(DryRunProvider(builder, tmp_path / "out", max_batch=4), interrupt)
    with pytest.raises(Paused, match="interrupted during batch 2: its 4 recipients are uncertain"):
        run_campaign(journal, start(journal, issue), provider, builder, max_failures=5)
    assert journal.counts("c1") | {} == {
        "pending": 4,
        "sending": 0,
        "sent": 4,
        "failed": 0,
        "skipped": 0,
        "uncertain": 4,
        "cancelled": 0,
    }
    assert journal.campaign("c1").status == "paused"
    provider.before_batch = lambda batch: None
    assert run_campaign(journal, start(journal, issue), provider, builder, max_failures=5).sent == 4
    provider.close()
    assert journal.counts("c1")["uncertain"] == 4  # never resent without being asked


def test_answers_lost_in_a_row_pause_the_campaign(store, settings, issue) -> None:
    populate(store, 50)
    with fake_sendgrid.running(KEY, decide=lambda n: "accept-drop") as fake:
        configured = with_sendgrid(settings, fake.url)
        builder = MessageBuilder(issue, configured, campaign="c1")
        provider = SendGridProvider(configured, builder, sleep=lambda _: None)
        provider.max_batch = 10
        journal = Journal(store)
        with closing(provider), pytest.raises(Paused, match="paused after 20 failures in a row"):
            run_campaign(journal, start(journal, issue), provider, builder, max_failures=20)
    assert journal.counts("c1")["uncertain"] == 20 and journal.counts("c1")["pending"] == 30


def test_a_greylisted_address_waits_for_the_next_pass_without_stalling_the_rest(
    store, settings, issue
) -> None:
    populate(store, 12)
    sleeps: list[float] = []
    with fake_smtp.running() as server:
        server.refuse_rcpt = {"reader1@example.org": "451 4.7.1 greylisted, try again later"}

        def wait(seconds: float) -> None:
            sleeps.append(seconds)
            server.refuse_rcpt = {}  # the greylisting period is over

        builder = MessageBuilder(issue, with_smtp(settings, server.port), campaign="c1")
        provider = SmtpProvider(with_smtp(settings, server.port), builder, retry_after=30.0)
        provider.max_batch = 3
        journal = Journal(store)
        summary = run_campaign(
            journal, start(journal, issue), provider, builder, max_failures=5, sleep=wait
        )
        provider.close()
    assert sleeps == [30.0]  # once, after the first pass over everyone else
    delivered = [rcpt[0] for _, rcpt, _ in server.messages]
    assert (
        summary.sent == 12 and len(set(delivered)) == 12 and delivered[-1] == "reader1@example.org"
    )


def test_a_first_name_attribute_is_what_the_greeting_uses(store, issue) -> None:
    from sqlalchemy import update

    from newsletter.db.schema import subscribers

    store.add("ada@example.com", name="Augusta Ada King", consent=Consent("test"))
    store.add("chan@example.net", name="陳大文", consent=Consent("test"))
    with store.write() as conn:
        conn.execute(
            update(subscribers)
            .where(subscribers.c.id == 1)
            .values(attributes={"first_name": "Ada"})
        )
    journal = Journal(store)
    claim = journal.claim(start(journal, issue), 10)
    assert [r.first_name for _, r in claim.recipients] == ["Ada", "陳大文"]


def test_one_reader_sendgrid_refuses_never_blocks_the_other_999(
    store, settings, issue, tmp_path
) -> None:
    from sqlalchemy import update

    from newsletter.audience.importer import import_file
    from newsletter.db.schema import subscribers

    people = tmp_path / "people.csv"
    people.write_text(
        "email,name\n" + "".join(f"reader{n}@example.org,Reader {n}\n" for n in range(1000)),
        "utf-8",
    )
    import_file(store, people, consent_text="test")
    poison = store.get("reader500@example.org")
    with store.write() as conn:  # a name from before the 200-character limit
        conn.execute(
            update(subscribers).where(subscribers.c.id == poison.id).values(name="名" * 6000)
        )
    with fake_sendgrid.running(KEY) as fake:
        configured = with_sendgrid(settings, fake.url)
        builder = MessageBuilder(issue, configured, campaign="c1")
        journal = Journal(store)
        with closing(SendGridProvider(configured, builder)) as provider:
            summary = run_campaign(
                journal, start(journal, issue), provider, builder, max_failures=5
            )
        received = fake.recipients()
    assert (summary.sent, summary.failed) == (999, 1)
    assert len(received) == 999 and "reader500@example.org" not in received
    (failed,) = journal.recipients("c1", ["failed"])
    assert failed["email"] == "reader500@example.org"
    assert (
        "SendGrid refused this recipient" in failed["reason"] and "10,000 bytes" in failed["reason"]
    )
    assert journal.campaign("c1").status == "finished"


def test_campaigns_show_lists_a_deferred_reader_with_the_providers_reason(store, issue) -> None:
    from newsletter.providers.base import RetryLater

    populate(store, 3)
    journal = Journal(store)
    claim = journal.claim(start(journal, issue), 10)
    first, *rest = [i for i, _ in claim.recipients]
    journal.record(
        "c1",
        claim.batch,
        [(first, RetryLater("451 4.7.1 greylisted")), *((i, Sent("x")) for i in rest)],
    )
    (row,) = journal.recipients("c1", ["failed", "uncertain"])
    assert (row["state"], row["reason"]) == ("deferred", "451 4.7.1 greylisted")


def test_ctrl_c_between_editions_keeps_what_each_edition_became(
    store, settings, issue, tmp_path
) -> None:
    """The batch goes out edition by edition, the original's first: a stop during the second
    edition's call must not call the first edition's readers uncertain (a retry would mail
    them twice), nor the third's (never handed over: they are simply pending)."""
    for n, lang in enumerate(["zh-Hant", "zh-Hans", "en"] * 2):
        store.add(f"reader{n}@example.org", lang=lang, consent=Consent("test"))
    english = render_issue(read_article(FIXTURES / "english.md"), settings, edition="en")
    articles = article_editions(read_article(SAMPLE_ARTICLE), settings)
    editions = render_editions(articles, settings)
    editions = Editions({**editions.renders, "en": english})
    journal = Journal(store)
    builder = MessageBuilder(editions, settings, campaign="c1")

    def interrupt(call: int) -> None:
        if call == 2:
            raise KeyboardInterrupt

    provider = Hooked(DryRunProvider(builder, tmp_path / "out", max_batch=6), interrupt)
    try:
        with pytest.raises(Paused, match="its 2 recipients are uncertain"):
            run_campaign(journal, start(journal, issue), provider, builder, max_failures=5)
        counts = journal.counts("c1")
        assert (counts["sent"], counts["uncertain"], counts["pending"]) == (2, 2, 2)
        assert journal.sent_by_edition("c1", "zh-Hant") == {"zh-Hant": 2}
        provider.before_batch = lambda call: None
        run = run_campaign(journal, start(journal, issue), provider, builder, max_failures=5)
        assert run.sent == 2
    finally:
        provider.close()
    by_edition = journal.sent_by_edition("c1", "zh-Hant")
    assert by_edition["zh-Hant"] == 2 and sum(by_edition.values()) == 4  # each reader once
    assert journal.counts("c1")["uncertain"] == 2  # the call in flight: never resent unasked
