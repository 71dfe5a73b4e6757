"""The send loop: claim a batch, send it, record the answers, until nobody is pending.

The journal is written before and after every provider call, so a crash at any point loses
nothing and doubles nothing (newsletter/delivery/journal.py). Too many failures in a row
pause the campaign instead of burning through the list against a broken provider.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from newsletter.audience.models import Filters
from newsletter.audience.queries import now
from newsletter.audience.store import Store
from newsletter.delivery import ledger
from newsletter.delivery.ahead import Ahead, Parcel, by_edition, edition_order, pack
from newsletter.delivery.events import apply_events
from newsletter.delivery.journal import Journal
from newsletter.delivery.states import CampaignStatus, RowState, outcome
from newsletter.providers.base import (
    Failed,
    Provider,
    ProviderError,
    ProviderEvent,
    Result,
    RetryLater,
    Uncertain,
)
from newsletter.render.mime import Envelope, MessageBuilder, Recipient

__all__ = ["Paused", "Summary", "rehearse", "run_campaign"]

MAX_WAIT = 300.0
"""Longest pause the runner takes when a provider says to come back later. It pauses only
between passes over the list, so one greylisted address never stalls everyone else."""


@dataclass
class Summary:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    uncertain: int = 0
    deferred: int = 0
    batches: int = 0
    failures: list[str] = field(default_factory=list)
    stopped: bool = False
    """Stopped between batches when asked (a worker shutting down); the campaign stays running."""


class Paused(ProviderError):
    """The campaign stopped on purpose; `newsletter send` again continues it."""


Progress = Callable[[int], None]
STOPPED_NOTE = "stopped between batches by a shutdown; `campaigns run-due` or `resume` continues it"


def run_campaign(
    journal: Journal,
    campaign_id: str,
    provider: Provider,
    builder: MessageBuilder,
    *,
    max_failures: int,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    should_stop: Callable[[], bool] = lambda: False,
    before_first_send: Callable[[], None] = lambda: None,
    on_batch: Callable[[int, Summary], None] = lambda batch, summary: None,
    on_wait: Callable[[float, int, str], None] = lambda seconds, deferred, reason: None,
) -> Summary:
    """Send every pending recipient of the campaign; returns what happened in this run.

    ``should_stop`` is asked between batches, so a worker told to shut down leaves no batch
    uncertain. ``before_first_send`` runs once, with the first batch claimed but not sent (the
    QA gate's last word); when it raises, the batch goes back and the campaign pauses.
    ``on_batch`` hears the totals after each batch and ``on_wait`` each pause for deferred
    readers (seconds, how many, the last reason), so a run under cron says what it does.
    """
    summary = Summary()
    in_a_row = 0
    wait = 0.0  # the longest "come back later" of this pass, slept before the next pass
    deferred: list[str] = []  # the reasons readers were deferred in this pass

    def between_passes() -> None:
        nonlocal wait
        if wait:
            on_wait(min(wait, MAX_WAIT), len(deferred), deferred[-1] if deferred else "")
            sleep(min(wait, MAX_WAIT))
            wait = 0.0
        deferred.clear()

    with Ahead(journal, campaign_id, provider, builder) as ahead:  # settled on the way out
        while (
            claim := journal.claim(
                campaign_id,
                provider.max_batch,
                before_second_pass=between_passes,
                edition_of=builder.editions.pick,
                read_ahead=ahead.read,
            )
        ) is not None:
            summary.skipped += claim.skipped
            summary.batches += 1
            groups = by_edition(builder, claim.recipients)
            if summary.batches == 1:
                _first_send(
                    journal,
                    campaign_id,
                    [i for _, ids, _ in groups for i in ids],
                    before_first_send,
                )
            results, states = _send_claim(
                journal, campaign_id, provider, ahead, claim.batch, groups
            )
            in_a_row = _count(summary, results, states, in_a_row)
            if progress:
                progress(claim.skipped + sum(state != RowState.PENDING for state in states))
            if in_a_row >= max_failures:
                note = f"paused after {in_a_row} failures in a row; last: {summary.failures[-1]}"
                journal.set_status(campaign_id, CampaignStatus.PAUSED, note)
                raise Paused(
                    f"{note}. Fix the cause, then `newsletter campaigns resume {campaign_id}` continues"
                )
            later = [  # deferred and still pending: a reader given up on is not waited for
                r
                for r, state in zip(results, states, strict=True)
                if isinstance(r, RetryLater) and state == RowState.PENDING
            ]
            wait = max([wait, *(r.after for r in later)])
            deferred += [r.reason for r in later]
            on_batch(claim.batch, summary)
            if should_stop():
                journal.set_status(campaign_id, CampaignStatus.RUNNING, STOPPED_NOTE)
                summary.stopped = True
                return summary
    counts = journal.counts(campaign_id)
    done = counts[RowState.PENDING] == counts[RowState.SENDING] == 0
    journal.set_status(campaign_id, CampaignStatus.FINISHED if done else CampaignStatus.PAUSED)
    return summary


def _send_claim(
    journal: Journal,
    campaign_id: str,
    provider: Provider,
    ahead: Ahead,
    batch: int,
    groups: list[tuple[str, list[int], list[Recipient]]],
) -> tuple[list[Result], list[RowState]]:
    """A claimed batch, edition by edition: one provider call and one record each, the next
    batch built while the last is in flight. Returns each reader's answer and new state."""
    results: list[Result] = []
    states: list[RowState] = []
    for n, (edition, ids, recipients) in enumerate(groups):
        unsent = [i for _, later, _ in groups[n + 1 :] for i in later]
        try:
            parcel = ahead.parcel(edition, recipients)
            if n == len(groups) - 1:
                ahead.start()
        except KeyboardInterrupt:  # nothing of this edition handed over yet
            raise _interrupted(journal, campaign_id, batch, [], [*ids, *unsent]) from None
        try:
            got = _send(parcel, journal, campaign_id, ids, batch, unsent)
        except KeyboardInterrupt:
            raise _interrupted(journal, campaign_id, batch, ids, unsent) from None
        outcomes = list(zip(ids, got, strict=True))
        states += journal.record(campaign_id, batch, outcomes, whole_edition=edition)
        results += got
        _bounce(journal, campaign_id, provider.name, ids, got)
    return results, states


def _interrupted(
    journal: Journal, campaign_id: str, batch: int, in_flight: list[int], unsent: list[int]
) -> Paused:
    """Ctrl-C during a provider call: that edition's readers are uncertain, the ones not yet
    handed over go back to pending, and the campaign pauses."""
    if in_flight:
        journal.record(
            campaign_id,
            batch,
            [(i, Uncertain("interrupted (Ctrl-C) while sending")) for i in in_flight],
        )
    if unsent:
        journal.release(campaign_id, unsent, "not sent: interrupted before its turn")
    note = (
        f"interrupted during batch {batch}: its {len(in_flight)} recipients are uncertain"
        if in_flight
        else f"interrupted before batch {batch} was handed over: its readers are pending again"
    )
    journal.set_status(campaign_id, CampaignStatus.PAUSED, note)
    return Paused(f"{note}; see `newsletter campaigns show {campaign_id}`")


def _bounce(
    journal: Journal, campaign_id: str, provider: str, ids: list[int], results: list[Result]
) -> None:
    """Addresses the server said do not exist are bounced, by the rules a bounce event follows."""
    moment = now()
    events = [
        ProviderEvent(
            event_id=f"{provider}:{campaign_id}:{subscriber_id}:bounce",
            kind="bounce",
            occurred_at=moment,
            email=None,
            subscriber_id=subscriber_id,
            campaign_id=campaign_id,
            reason=result.reason,
            provider=provider,
        )
        for subscriber_id, result in zip(ids, results, strict=True)
        if isinstance(result, Failed) and result.bounced
    ]
    if events:
        apply_events(journal.store, events)


def _first_send(
    journal: Journal, campaign_id: str, ids: list[int], check: Callable[[], None]
) -> None:
    try:
        check()
    except BaseException as exc:  # the gate said no, or waiting for it was interrupted
        journal.release(campaign_id, ids, "not sent: the campaign was stopped before it")
        journal.set_status(campaign_id, CampaignStatus.PAUSED, str(exc) or type(exc).__name__)
        raise


def rehearse(
    store: Store,
    filters: Filters,
    provider: Provider,
    builder: MessageBuilder,
    *,
    issue_id: str | None = None,
    progress: Progress | None = None,
) -> Summary:
    """A dry run over the current audience: everything but the journal and the network.

    Readers the issue (when it exists) was already given are left out, as a real send would.
    """
    summary = Summary()
    audience = filters.subscribed()
    excluding = None if issue_id is None else ledger.readers(issue_id)
    batch: list[Recipient] = []
    for subscriber in store.iter_all(audience, batch=provider.max_batch, excluding=excluding):
        edition = builder.editions.pick(subscriber.lang)
        key, email, name = str(subscriber.id), subscriber.email, subscriber.name
        batch.append(Recipient(key, email, name, subscriber.first_name, edition))
        if len(batch) == provider.max_batch:
            batch.sort(key=lambda recipient: edition_order(builder, recipient))
            _rehearse_batch(provider, builder, batch, summary, progress)
            batch = []
    if batch:
        batch.sort(key=lambda recipient: edition_order(builder, recipient))
        _rehearse_batch(provider, builder, batch, summary, progress)
    return summary


def _rehearse_batch(
    provider: Provider,
    builder: MessageBuilder,
    batch: list[Recipient],
    summary: Summary,
    progress: Progress | None,
) -> None:
    summary.batches += 1
    results = _send(pack(provider, builder, batch), None, None, [])
    _count(summary, results, [outcome(r, 0)[0] for r in results], 0)
    if progress:
        progress(len(batch))


def _send(
    parcel: Parcel,
    journal: Journal | None,
    campaign_id: str | None,
    ids: list[int],
    claim_batch: int | None = None,
    unsent: Sequence[int] = (),
) -> list[Result]:
    """The parcel's provider calls, one per edition. On a provider error, ``unsent`` (later
    editions' readers) go back to pending too."""
    done: list[Result] = []
    try:
        for call in parcel.calls:
            done += call()
    except ProviderError as exc:
        exc.partial = done + exc.partial
        if journal is not None and campaign_id is not None and claim_batch is not None:
            handled = _merge(parcel.envelopes, exc.partial)
            journal.record(campaign_id, claim_batch, list(zip(ids, handled, strict=False)))
            journal.release(campaign_id, [*ids[len(handled) :], *unsent], str(exc))
            journal.set_status(campaign_id, CampaignStatus.PAUSED, str(exc))
        raise
    answers = iter(done)
    return [next(answers) if isinstance(e, Envelope) else e for e in parcel.envelopes]


def _merge(envelopes: list[Envelope | Failed], partial: list[Result]) -> list[Result]:
    """Line up a provider's partial answers with the batch (unsendable ones failed already)."""
    answers, merged = iter(partial), list[Result]()
    for envelope in envelopes:
        if isinstance(envelope, Failed):
            merged.append(envelope)
            continue
        answer = next(answers, None)
        if answer is None:
            break
        merged.append(answer)
    return merged


def _count(
    summary: Summary, results: Sequence[Result], states: Sequence[RowState], in_a_row: int
) -> int:
    """Tally this batch; failures and uncertain answers in a row (by final state) feed the pause."""
    for result, state in zip(results, states, strict=True):
        if state == RowState.SENT:
            summary.sent += 1
            in_a_row = 0
        elif state == RowState.FAILED:
            summary.failed += 1
            summary.failures.append(getattr(result, "reason", state))
            in_a_row += 1
        elif state == RowState.UNCERTAIN:
            summary.uncertain += 1
            summary.failures.append(getattr(result, "reason", state))
            in_a_row += 1
        else:
            summary.deferred += 1
    return in_a_row
