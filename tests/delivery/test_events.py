"""Provider events on a real SQLite file: replays, late and reordered events, soft bounces, one transaction."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from newsletter.audience.importer import import_file
from newsletter.audience.models import Filters, Status
from newsletter.audience.store import Consent, Store
from newsletter.db.schema import campaign_recipients, provider_events
from newsletter.delivery.events import apply_events, prune_events
from newsletter.providers.base import ProviderEvent
from tests.delivery.helpers import open_campaign
from tests.refusing import refuse_updates

_ids = itertools.count(1)


def at(minutes: float = 0) -> dt.datetime:
    """Event times relative to now: subscribers added by the test are a moment older."""
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)


def ev(
    kind: str,
    subscriber: int | None,
    *,
    when: dt.datetime | None = None,
    campaign: str | None = "c1",
    reason: str | None = None,
    email: str | None = None,
    event_id: str | None = None,
) -> ProviderEvent:
    return ProviderEvent(
        event_id=event_id or f"ev-{next(_ids)}",
        kind=kind,
        occurred_at=when or at(),
        email=email,
        subscriber_id=subscriber,
        campaign_id=campaign,
        reason=reason,
    )


def add(store: Store, email: str = "ada@example.com") -> int:
    return store.add(email, consent=Consent("test")).id


def status(store: Store, email: str = "ada@example.com") -> Status:
    return store.get(email).status


def start_campaign(store: Store) -> None:
    """Every subscribed reader frozen into campaign c1, as a real send begins."""
    open_campaign(store)


def delivery(store: Store, subscriber: int) -> str | None:
    with store.read() as conn:
        return conn.execute(
            select(campaign_recipients.c.delivery).where(
                campaign_recipients.c.campaign_id == "c1",
                campaign_recipients.c.subscriber_id == subscriber,
            )
        ).scalar_one()


def test_a_hard_bounce_marks_the_address_bounced_with_its_reason_in_the_history(
    store: Store,
) -> None:
    ada = add(store)
    summary = apply_events(store, [ev("bounce", ada, reason="550 5.1.1 no such user")])
    assert (summary.received, summary.applied, summary.duplicates) == (1, 1, 0)
    assert summary.status_changes == {"bounced": 1} and summary.ignored == 0
    subscriber = store.get("ada@example.com")
    assert subscriber.status is Status.BOUNCED
    assert subscriber.last_bounce_reason == "550 5.1.1 no such user"
    last = store.history("ada@example.com")[-1]
    assert (last.from_status, last.to_status, last.actor, last.reason) == (
        Status.SUBSCRIBED,
        Status.BOUNCED,
        "sendgrid",
        "bounce: 550 5.1.1 no such user",
    )


def test_a_replayed_batch_changes_nothing(store: Store) -> None:
    ada, bob = add(store), add(store, "bob@example.com")
    start_campaign(store)
    batch = [
        ev("delivered", ada),
        ev("soft_bounce", bob, reason="421 try later"),
        ev("unsubscribe", ada, when=at(1)),
    ]
    first = apply_events(store, batch)
    history = len(store.history("ada@example.com"))
    again = apply_events(store, batch)
    assert (first.applied, first.duplicates, first.status_changes) == (3, 0, {"unsubscribed": 1})
    assert (again.received, again.applied, again.duplicates, again.status_changes) == (3, 0, 3, {})
    assert store.get("bob@example.com").bounce_count == 1  # not counted twice
    assert len(store.history("ada@example.com")) == history


def test_the_same_event_twice_in_one_batch_counts_once(store: Store) -> None:
    bob = add(store, "bob@example.com")
    twice = ev("soft_bounce", bob, reason="mailbox full")
    summary = apply_events(store, [twice, twice])
    assert (summary.applied, summary.duplicates) == (1, 1)
    assert store.get("bob@example.com").bounce_count == 1


def test_delivery_only_moves_up_whatever_order_events_arrive_in(store: Store) -> None:
    ada, bob, cyd = (add(store, f"{n}@example.com") for n in ("ada", "bob", "cyd"))
    start_campaign(store)
    apply_events(store, [ev("bounce", ada, when=at(2)), ev("delivered", bob, when=at(2))])
    apply_events(store, [ev("delivered", ada, when=at(1)), ev("processed", bob, when=at(1))])
    apply_events(store, [ev("deferred", cyd), ev("delivered", cyd, when=at(1))])
    assert (delivery(store, ada), delivery(store, bob), delivery(store, cyd)) == (
        "bounced",
        "delivered",
        "delivered",
    )
    assert status(store, "ada@example.com") is Status.BOUNCED
    apply_events(store, [ev("complaint", bob, when=at(3))])
    assert delivery(store, bob) == "complained"


def test_someone_who_resubscribed_after_an_old_bounce_stays_subscribed(store: Store) -> None:
    ada = add(store)
    bounced_at = at()
    apply_events(store, [ev("bounce", ada, when=bounced_at, reason="mailbox unavailable")])
    store.resubscribe("ada@example.com", reason="wrote to say the mailbox works again")
    late = apply_events(store, [ev("bounce", ada, when=bounced_at, reason="mailbox unavailable")])
    assert late.applied == 1 and late.status_changes == {}
    assert status(store) is Status.SUBSCRIBED


def test_soft_bounces_in_a_row_up_to_the_limit_mark_the_address_bounced(store: Store) -> None:
    ada = add(store)
    apply_events(store, [ev("soft_bounce", ada, when=at(n), reason="full") for n in (1, 2)])
    assert store.get("ada@example.com").bounce_count == 2
    apply_events(store, [ev("delivered", ada, when=at(3))])
    assert store.get("ada@example.com").bounce_count == 0 and status(store) is Status.SUBSCRIBED
    summary = apply_events(
        store,
        [ev("soft_bounce", ada, when=at(n), reason="452 mailbox full") for n in (4, 5, 6)],
        soft_bounce_limit=3,
    )
    assert summary.status_changes == {"bounced": 1}
    subscriber = store.get("ada@example.com")
    assert subscriber.status is Status.BOUNCED and subscriber.bounce_count == 3
    assert store.history("ada@example.com")[-1].reason == "soft bounce 3 of 3: 452 mailbox full"


def test_soft_bounces_count_in_event_order_not_arrival_order(store: Store) -> None:
    ada = add(store)
    batch = [
        ev("soft_bounce", ada, when=at(3)),
        ev("delivered", ada, when=at(2)),
        ev("soft_bounce", ada, when=at(1)),
    ]
    apply_events(store, batch, soft_bounce_limit=2)
    assert store.get("ada@example.com").bounce_count == 1 and status(store) is Status.SUBSCRIBED


def test_after_a_resubscribe_soft_bounces_count_from_one_again(store: Store) -> None:
    ada = add(store)
    apply_events(store, [ev("soft_bounce", ada, when=at(n)) for n in (1, 2)], soft_bounce_limit=2)
    store.resubscribe("ada@example.com", reason="asked to come back")
    apply_events(store, [ev("soft_bounce", ada, when=at(10))], soft_bounce_limit=2)
    subscriber = store.get("ada@example.com")
    assert subscriber.status is Status.SUBSCRIBED and subscriber.bounce_count == 1


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("Bounced Address", Status.BOUNCED),
        ("Invalid", Status.BOUNCED),
        ("Spam Reporting Address", Status.COMPLAINED),
        ("Unsubscribed Address", Status.UNSUBSCRIBED),
        ("Invalid SMTPAPI header", Status.SUBSCRIBED),  # our request's fault, not the address's
        ("Spam Content (if spam checker app enabled)", Status.SUBSCRIBED),
    ],
)
def test_a_dropped_message_says_why(store: Store, reason: str, expected: Status) -> None:
    ada = add(store)
    start_campaign(store)
    apply_events(store, [ev("dropped", ada, reason=reason)])
    assert status(store) is expected and delivery(store, ada) == "dropped"


def test_a_complaint_beats_an_unsubscribe_and_nothing_beats_a_complaint(store: Store) -> None:
    ada = add(store)
    apply_events(store, [ev("unsubscribe", ada, when=at(1)), ev("complaint", ada, when=at(2))])
    apply_events(store, [ev("unsubscribe", ada, when=at(3)), ev("bounce", ada, when=at(4))])
    assert status(store) is Status.COMPLAINED
    assert [(e.from_status, e.to_status) for e in store.history("ada@example.com")[1:]] == [
        (Status.SUBSCRIBED, Status.UNSUBSCRIBED),
        (Status.UNSUBSCRIBED, Status.COMPLAINED),
    ]


def test_an_unsubscribed_reader_stays_unsubscribed_when_a_bounce_follows(store: Store) -> None:
    ada = add(store)
    store.unsubscribe("ada@example.com", reason="one-click")
    summary = apply_events(store, [ev("bounce", ada, when=at(1))])
    assert summary.status_changes == {} and status(store) is Status.UNSUBSCRIBED


def test_a_blocked_address_is_never_changed_by_events(store: Store) -> None:
    ada = add(store)
    store.change_status("ada@example.com", Status.BLOCKED, actor="test", reason="abuse")
    apply_events(store, [ev("complaint", ada, when=at(1))])
    assert status(store) is Status.BLOCKED


def test_a_pending_address_that_bounces_is_bounced(store: Store) -> None:
    pending = store.add("new@example.com").id
    apply_events(store, [ev("bounce", pending, campaign=None, email="new@example.com")])
    assert status(store, "new@example.com") is Status.BOUNCED


def test_test_sends_never_change_a_subscriber(store: Store) -> None:
    """A test send names the campaign test-<slug> and a key such as "sample", not a subscriber id."""
    add(store)
    summary = apply_events(
        store,
        [
            ev("bounce", None, campaign="test-issue", email="ada@example.com"),
            ev("complaint", None, campaign="test-issue", email="Ada@Example.com"),
        ],
    )
    assert summary.applied == 2 and summary.ignored == 2 and summary.status_changes == {}
    assert status(store) is Status.SUBSCRIBED


def test_mail_without_our_ids_is_matched_by_address(store: Store) -> None:
    add(store)
    summary = apply_events(
        store,
        [
            ev("bounce", None, campaign=None, email="ADA@example.COM", reason="no such user"),
            ev("delivered", None, campaign=None, email="bob@example.com"),
            ev("bounce", None, campaign=None, email="not an address"),
        ],
    )
    assert summary.status_changes == {"bounced": 1} and summary.ignored == 2
    assert status(store) is Status.BOUNCED


def test_an_unknown_subscriber_is_recorded_but_changes_nothing(store: Store) -> None:
    add(store)
    summary = apply_events(store, [ev("bounce", 999_999)])
    assert (summary.applied, summary.ignored, summary.status_changes) == (1, 1, {})
    with store.read() as conn:
        assert conn.execute(select(provider_events.c.subscriber_id)).scalar_one() == 999_999
    assert status(store) is Status.SUBSCRIBED


def test_opens_and_clicks_are_kept_as_events_only(store: Store) -> None:
    ada = add(store)
    start_campaign(store)
    summary = apply_events(store, [ev("open", ada), ev("click", ada)])
    assert summary.applied == 2 and delivery(store, ada) is None


def thousand(store: Store, tmp_path: Path) -> tuple[list[int], list[ProviderEvent]]:
    """A thousand subscribers in campaign c1, and one event each: delivered, every 50th a bounce."""
    people = tmp_path / "people.csv"
    people.write_text("email\n" + "".join(f"reader{n}@example.org\n" for n in range(1000)), "utf-8")
    import_file(store, people, consent_text="test")
    start_campaign(store)
    ids = [s.id for s in store.find()]
    return ids, [ev("bounce" if n % 50 == 0 else "delivered", i) for n, i in enumerate(ids)]


def test_a_thousand_events_are_one_transaction_of_a_few_statements(
    store: Store, tmp_path: Path
) -> None:
    _, batch = thousand(store, tmp_path)
    begins: list[Any] = []
    statements: list[str] = []
    sa_event.listen(store.engine, "begin", begins.append)
    sa_event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    summary = apply_events(store, batch)
    assert summary.applied == 1000 and summary.status_changes == {"bounced": 20}
    # bulk SQL: a few statements for the batch, plus the row and its history per status change
    assert len(begins) == 1 and len(statements) - 2 * 20 <= 8
    with store.read() as conn:
        counts = dict(
            conn.execute(
                select(campaign_recipients.c.delivery, func.count()).group_by(
                    campaign_recipients.c.delivery
                )
            ).all()
        )
    assert counts == {"delivered": 980, "bounced": 20}


def test_a_failure_half_way_leaves_nothing_applied(store: Store, tmp_path: Path) -> None:
    ids, batch = thousand(store, tmp_path)
    with store.write() as conn:  # the database refuses one recipient's update, after the rest
        refuse_updates(
            conn,
            "refuse",
            "campaign_recipients",
            of="delivery",
            when=f"NEW.subscriber_id = {ids[-1]}",
        )
    with pytest.raises(DBAPIError, match="refused"):
        apply_events(store, batch)
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(provider_events)).scalar_one() == 0
        assert (
            conn.execute(
                select(func.count()).where(campaign_recipients.c.delivery.is_not(None))
            ).scalar_one()
            == 0
        )
    assert store.count(Filters(status=Status.BOUNCED)) == 0


def test_prune_forgets_old_event_ids_only(store: Store) -> None:
    ada = add(store)
    apply_events(store, [ev("delivered", ada), ev("open", ada)])
    assert prune_events(store) == 0
    assert prune_events(store, older_than=dt.timedelta(0)) == 2
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(provider_events)).scalar_one() == 0


def test_events_settle_uncertain_rows_and_retry_resends_only_the_rest(store: Store) -> None:
    from newsletter.delivery.journal import Journal
    from newsletter.delivery.states import RowState
    from newsletter.providers.base import Uncertain

    ids = [add(store, f"reader{n}@example.com") for n in range(4)]
    journal = Journal(store)
    campaign = journal.start(open_campaign(store)).id
    claim = journal.claim(campaign, 10)
    journal.record(campaign, claim.batch, [(i, Uncertain("answer lost")) for i in ids])
    summary = apply_events(
        store,
        [
            ev("processed", ids[0]),
            ev("delivered", ids[1]),
            ev("dropped", ids[2], reason="Bounced Address"),
        ],
    )
    assert summary.confirmed == 3
    counts = journal.counts(campaign)
    assert (counts[RowState.SENT], counts[RowState.FAILED], counts[RowState.UNCERTAIN]) == (2, 1, 1)
    assert journal.confirmed(campaign) == 3
    with store.read() as conn:
        evidence = conn.execute(
            select(campaign_recipients.c.evidence).where(
                campaign_recipients.c.subscriber_id == ids[0]
            )
        ).scalar_one()
    assert evidence.startswith("sendgrid processed at ")
    assert journal.retry(campaign, failed=False, uncertain=True) == 1
    again = journal.claim(campaign, 10)
    assert [i for i, _ in again.recipients] == [ids[3]]


def test_events_never_touch_a_row_a_live_send_is_still_recording(store: Store) -> None:
    from newsletter.delivery.journal import Journal
    from newsletter.delivery.states import RowState

    ada = add(store)
    journal = Journal(store)
    campaign = journal.start(open_campaign(store)).id
    journal.claim(campaign, 10)
    assert apply_events(store, [ev("delivered", ada)]).confirmed == 0
    assert journal.counts(campaign)[RowState.SENDING] == 1
