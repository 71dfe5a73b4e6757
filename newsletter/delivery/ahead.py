"""The next batch built while the one before is in flight.

A send alternates between work here (claim, envelopes, the request body) and waiting for the
provider. While the main thread sends a batch and waits for the answer, a background thread
reads who the next claim will take (Journal.peek, which writes nothing) and builds their
envelopes and request. The claim still decides: only when its readers are exactly the ones
read ahead is what was built used; a reader who left meanwhile, a name or language changed,
another sender's claim, and the claim builds its batch itself. The send, its answers and
every journal write stay on the main thread, in the same order as without this, so a crash,
Ctrl-C or SIGTERM leaves the journal as it would: the rows in flight uncertain, the rest
pending.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from newsletter.delivery.batches import ReadAhead
from newsletter.delivery.journal import Journal
from newsletter.providers.base import Failed, Preparing, Provider, Result
from newsletter.render.mime import Envelope, MessageBuilder, Recipient, UnsendableAddress

__all__ = ["Ahead", "Parcel", "by_edition", "edition_order", "pack"]

Send = Callable[[], list[Result]]
log = logging.getLogger("newsletter.delivery")


@dataclass(frozen=True)
class Parcel:
    """Readers ready to send: their envelopes (an unsendable address failed alone) and one
    provider call per edition for the sendable ones, in the readers' order."""

    recipients: list[Recipient]
    envelopes: list[Envelope | Failed]
    calls: list[Send]


def pack(provider: Provider, builder: MessageBuilder, recipients: list[Recipient]) -> Parcel:
    """Everything about a batch but sending it; readers come sorted by edition_order."""
    envelopes: list[Envelope | Failed] = []
    for recipient in recipients:
        try:
            envelopes.append(builder.envelope(recipient))
        except UnsendableAddress as exc:
            envelopes.append(Failed(str(exc)))
    sendable = [e for e in envelopes if isinstance(e, Envelope)]
    editions = [list(g) for _, g in itertools.groupby(sendable, key=lambda e: e.edition)]
    calls: list[Send]
    if isinstance(provider, Preparing):
        prepared = [provider.prepare(edition) for edition in editions]
        calls = [functools.partial(provider.send_prepared, request) for request in prepared]
    else:
        calls = [functools.partial(provider.send, edition) for edition in editions]
    return Parcel(recipients, envelopes, calls)


def edition_order(builder: MessageBuilder, recipient: Recipient) -> tuple[bool, str]:
    """A batch goes out edition by edition (one provider call each), the original's first."""
    edition = recipient.edition or builder.original
    return edition != builder.original, edition


def by_edition(
    builder: MessageBuilder, claimed: Sequence[tuple[int, Recipient]]
) -> list[tuple[str, list[int], list[Recipient]]]:
    """The batch's readers by edition, the original's first: one provider call (and one
    journal record) each, so a stop between two leaves each edition's rows in their true state."""
    if len(builder.editions.langs) == 1:  # most issues: one call, in the claim's order
        return (
            [(builder.original, [i for i, _ in claimed], [r for _, r in claimed])]
            if claimed
            else []
        )
    groups: dict[str, tuple[list[int], list[Recipient]]] = {}
    for subscriber_id, recipient in sorted(claimed, key=lambda p: edition_order(builder, p[1])):
        ids, recipients = groups.setdefault(recipient.edition or builder.original, ([], []))
        ids.append(subscriber_id)
        recipients.append(recipient)
    return [(edition, ids, recipients) for edition, (ids, recipients) in groups.items()]


class Ahead:
    """The next claim's parcels, built on a background thread while a batch is in flight;
    used on an exact match. Whoever reads them first waits for the build to end."""

    def __init__(
        self, journal: Journal, campaign_id: str, provider: Provider, builder: MessageBuilder
    ):
        self._journal = journal
        self._campaign_id = campaign_id
        self._provider = provider
        self._builder = builder
        self._parcels: dict[str, Parcel] = {}
        self._read: ReadAhead | None = None
        self._building: threading.Thread | None = None

    def __enter__(self) -> Ahead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.settle()

    def start(self) -> None:
        """Begin building the next claim's batch, replacing what the last build made."""
        self.settle()
        building = threading.Thread(target=self._build, name="newsletter-ahead", daemon=True)
        try:
            building.start()
        except RuntimeError:  # no thread to be had: the claim builds its batch itself
            return
        self._building = building

    def settle(self) -> None:
        """Wait for the build in progress: it is short (no I/O but one read)."""
        if self._building is not None:
            self._building.join()
            self._building = None

    @property
    def read(self) -> ReadAhead | None:
        """The last peek, for the claim to use its sorting again when its rows are the same."""
        self.settle()
        return self._read

    def parcel(self, edition: str, recipients: list[Recipient]) -> Parcel:
        """The claimed readers of one edition, packed: ahead when they match exactly."""
        self.settle()
        ready = self._parcels.pop(edition, None)
        if ready is not None and ready.recipients == recipients:
            return ready
        return pack(self._provider, self._builder, recipients)

    def _build(self) -> None:
        """Only a shortcut: when it fails, the claim and its own packing meet the same problem
        on the main thread and report it there."""
        self._parcels, self._read = {}, None
        try:
            read = self._journal.peek(
                self._campaign_id, self._provider.max_batch, self._builder.editions.pick
            )
            peeked = read.claimed.recipients if read is not None else []
            self._parcels = {
                edition: pack(self._provider, self._builder, recipients)
                for edition, _, recipients in by_edition(self._builder, peeked)
            }
            self._read = read
        except Exception:  # nothing was kept: _parcels and _read stay empty
            log.debug("building the next batch ahead failed", exc_info=True)
