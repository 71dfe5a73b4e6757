"""The journal: a campaign's readers are claimed in batches, each answer recorded once, and a
retry, a cancel or a deferral moves exactly the readers it names."""

from __future__ import annotations

from newsletter.audience.store import Consent, Store
from newsletter.delivery.journal import Journal
from newsletter.delivery.states import MAX_ATTEMPTS, CampaignStatus, RowState
from newsletter.providers.base import Failed, RetryLater, Sent
from tests.delivery.helpers import open_campaign


def _started(store: Store, readers: int) -> tuple[Journal, str]:
    """A running campaign of the sample issue to ``readers`` subscribed readers."""
    for n in range(readers):
        store.add(f"reader{n}@example.org", consent=Consent("test"))
    journal = Journal(store)
    return journal, journal.start(open_campaign(store)).id


def test_a_started_campaign_claims_its_frozen_audience_in_batches_in_list_order(
    store: Store,
) -> None:
    journal, campaign = _started(store, 5)
    store.add("late@example.org", consent=Consent("test"))  # after the freeze: not this campaign's
    first = journal.claim(campaign, 2)
    second = journal.claim(campaign, 10)
    assert first is not None and second is not None
    claimed = [r.email for _, r in first.recipients + second.recipients]
    assert claimed == [f"reader{n}@example.org" for n in range(5)]
    assert journal.claim(campaign, 10) is None
    assert journal.counts(campaign)[RowState.SENDING] == 5


def test_each_answer_sets_its_readers_state(store: Store) -> None:
    journal, campaign = _started(store, 3)
    claim = journal.claim(campaign, 3)
    assert claim is not None
    (a, _), (b, _), (c, _) = claim.recipients
    states = journal.record(
        campaign,
        claim.batch,
        [(a, Sent("m1")), (b, Failed("550 no such user")), (c, RetryLater("451"))],
    )
    assert states == [RowState.SENT, RowState.FAILED, RowState.PENDING]
    counts = journal.counts(campaign)
    assert (counts[RowState.SENT], counts[RowState.FAILED], counts[RowState.PENDING]) == (1, 1, 1)


def test_a_reader_deferred_too_often_is_failed_not_tried_forever(store: Store) -> None:
    journal, campaign = _started(store, 1)
    states = []
    for _ in range(MAX_ATTEMPTS):
        claim = journal.claim(campaign, 1)
        assert claim is not None
        ((reader, _),) = claim.recipients
        states += journal.record(campaign, claim.batch, [(reader, RetryLater("451 greylisted"))])
    assert states[:-1] == [RowState.PENDING] * (MAX_ATTEMPTS - 1)
    assert states[-1] is RowState.FAILED


def test_retry_of_failed_readers_moves_only_them_back(store: Store) -> None:
    journal, campaign = _started(store, 2)
    claim = journal.claim(campaign, 2)
    assert claim is not None
    (a, _), (b, _) = claim.recipients
    journal.record(campaign, claim.batch, [(a, Sent("m1")), (b, Failed("5.7.1 blocked"))])
    assert journal.retry(campaign, failed=True, uncertain=False) == 1
    again = journal.claim(campaign, 10)
    assert again is not None and [i for i, _ in again.recipients] == [b]


def test_a_cancelled_campaign_claims_nobody_further_and_says_how_many_it_stopped(
    store: Store,
) -> None:
    journal, campaign = _started(store, 4)
    assert journal.claim(campaign, 1) is not None
    assert journal.cancel(campaign) == 3
    assert journal.claim(campaign, 10) is None
    assert journal.campaign(campaign).status is CampaignStatus.CANCELLED
