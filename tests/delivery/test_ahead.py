"""The next batch is built while one is in flight, and the claim still decides who gets what."""

from __future__ import annotations

import threading
from contextlib import closing

import pytest

from newsletter.compose.article import read_article
from newsletter.delivery.batches import ReadAhead
from newsletter.delivery.journal import Journal
from newsletter.delivery.runner import Paused, run_campaign
from newsletter.providers.sendgrid import SendGridProvider
from newsletter.render import render_issue
from newsletter.render.mime import MessageBuilder
from tests.conftest import SAMPLE_ARTICLE
from tests.delivery.helpers import open_campaign
from tests.delivery.test_runner import KEY, populate, with_sendgrid
from tests.fakes import sendgrid as fake_sendgrid


class Watched(Journal):
    """The journal, telling the test when the runner has read the next batch ahead."""

    def __init__(self, store):
        super().__init__(store)
        self.peeked = threading.Event()

    def peek(self, *args, **kwargs) -> ReadAhead | None:
        found = super().peek(*args, **kwargs)
        self.peeked.set()
        return found


@pytest.fixture
def issue(settings):
    return render_issue(read_article(SAMPLE_ARTICLE), settings)


def send_in_threes(
    journal: Journal, settings, issue, fake, provider_class=SendGridProvider
) -> None:
    configured = with_sendgrid(settings, fake.url)
    builder = MessageBuilder(issue, configured, campaign="c1")
    provider = provider_class(configured, builder, sleep=lambda _: None)
    provider.max_batch = 3
    with closing(provider):
        run_campaign(
            journal, journal.start(open_campaign(journal.store)).id, provider, builder,
            max_failures=5,
        )  # fmt: skip


def test_a_reader_who_leaves_after_their_batch_was_built_ahead_is_not_mailed(
    store, settings, issue
) -> None:
    populate(store, 9)
    journal = Watched(store)

    def first_answer(request: int) -> str:
        if request == 1:  # batch 2 (readers 3-5) is read and built while batch 1 is out
            assert journal.peeked.wait(10)
            store.unsubscribe("reader4@example.org", actor="web", reason="one-click")
            store.update("reader5@example.org", name="Renamed Five")
        return "ok"

    with fake_sendgrid.running(KEY, decide=first_answer) as fake:
        send_in_threes(journal, settings, issue, fake)
    received = fake.recipients()
    assert "reader4@example.org" not in received
    assert sum(received.values()) == 8 and set(received.values()) == {1}
    names = {
        to["email"]: to.get("name") for body in fake.accepted for p in body["personalizations"]
        for to in p["to"]
    }  # fmt: skip
    assert names["reader5@example.org"] == "Renamed Five"
    assert journal.counts("c1")["skipped"] == 1 and journal.counts("c1")["sent"] == 8


def test_ctrl_c_while_a_batch_is_in_flight_and_the_next_built_leaves_only_that_batch_uncertain(
    store, settings, issue
) -> None:
    populate(store, 9)
    journal = Watched(store)

    class CtrlCInFlight(SendGridProvider):
        """Ctrl-C reaches the send (the main thread) once the request is out and the next
        batch is being built; the subprocess tests send real signals (test_crash.py)."""

        def send_prepared(self, request):
            super().send_prepared(request)
            assert journal.peeked.wait(10)
            raise KeyboardInterrupt

    with (
        fake_sendgrid.running(KEY) as fake,
        pytest.raises(Paused, match="interrupted during batch 1: its 3 recipients are uncertain"),
    ):
        send_in_threes(journal, settings, issue, fake, CtrlCInFlight)
    counts = journal.counts("c1")
    in_flight = (counts["uncertain"], counts["pending"], counts["sent"], counts["sending"])
    assert in_flight == (3, 6, 0, 0)
    assert journal.campaign("c1").status == "paused"


class CtrlCWhilePacking(SendGridProvider):
    """Ctrl-C arrives while the first batch's request is being built, before any is sent."""

    def prepare(self, batch):
        raise KeyboardInterrupt


def test_ctrl_c_while_a_batch_is_built_pauses_with_its_readers_pending_and_a_resume_sends_them(
    store, settings, issue
) -> None:
    populate(store, 9)
    journal = Journal(store)
    with fake_sendgrid.running(KEY) as fake:
        with pytest.raises(Paused, match="before batch 1 was handed over"):
            send_in_threes(journal, settings, issue, fake, CtrlCWhilePacking)
        counts = journal.counts("c1")
        assert (counts["pending"], counts["sending"], counts["uncertain"]) == (9, 0, 0)
        assert journal.campaign("c1").status == "paused" and fake.requests == 0
        send_in_threes(journal, settings, issue, fake)
    received = fake.recipients()
    assert sum(received.values()) == 9 and set(received.values()) == {1}


def test_every_batch_after_the_first_is_built_while_the_one_before_is_in_flight(
    store, settings, issue
) -> None:
    """The build ahead must not turn itself off quietly (a failing build only logs)."""
    populate(store, 9)
    built_on: list[str] = []

    class Recording(SendGridProvider):
        def prepare(self, batch):
            built_on.append(threading.current_thread().name)
            return super().prepare(batch)

    with fake_sendgrid.running(KEY) as fake:
        send_in_threes(Journal(store), settings, issue, fake, Recording)
    assert sum(fake.recipients().values()) == 9
    assert built_on == ["MainThread", "newsletter-ahead", "newsletter-ahead"]
