"""The provider interface: a batch of recipients in, one result per recipient out.

Results are a closed set, so the campaign runner never branches on a provider's own words:

* Sent(provider_id)        the provider accepted the message
* Failed(reason)           this recipient will not get it (a 5xx, an invalid address);
                           bounced=True when the address itself does not exist
* RetryLater(reason)       not sent, safe to send again (429, 4xx SMTP, a refused connection)
* Uncertain(reason)        the provider may or may not have it (a timeout after sending):
                           never resent automatically, listed for `campaigns retry --uncertain`

A problem with the whole campaign (bad API key, a request SendGrid refuses) raises
ProviderError instead: the runner pauses the campaign and nothing in the batch counts as sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from newsletter.errors import NewsletterError
from newsletter.render.mime import Envelope

__all__ = [
    "Failed",
    "Preparing",
    "Provider",
    "ProviderError",
    "ProviderEvent",
    "Result",
    "RetryLater",
    "Sent",
    "Uncertain",
]


@dataclass(frozen=True)
class Sent:
    provider_id: str


@dataclass(frozen=True)
class Failed:
    reason: str
    bounced: bool = False
    """The address does not exist (SMTP 5.1.x): the reader is marked bounced, as a provider's
    bounce event would."""


@dataclass(frozen=True)
class RetryLater:
    reason: str
    after: float = 0.0


@dataclass(frozen=True)
class Uncertain:
    reason: str


Result = Sent | Failed | RetryLater | Uncertain


@dataclass(frozen=True)
class ProviderEvent:
    """One provider event in neutral terms.

    ``kind`` is processed, deferred, delivered, bounce (hard), soft_bounce, dropped, complaint,
    unsubscribe, open or click. ``subscriber_id`` and ``campaign_id`` are the ids our sends
    attach to each message: None for mail we did not send (and no subscriber for test sends).
    """

    event_id: str
    kind: str
    occurred_at: dt.datetime
    email: str | None
    subscriber_id: int | None
    campaign_id: str | None
    reason: str | None = None
    provider: str = "sendgrid"


class ProviderError(NewsletterError):
    """The provider refused the campaign as a whole; the message says why and what to fix.

    ``partial`` holds the results of the batch's first recipients, handled before the error
    (a provider that sends one by one); the runner records them and puts back the rest.
    """

    def __init__(self, message: str, *, partial: Sequence[Result] = ()):
        super().__init__(message)
        self.partial: list[Result] = list(partial)


class Provider(Protocol):
    name: ClassVar[str]
    max_batch: int

    def send(self, batch: Sequence[Envelope]) -> list[Result]:
        """Send one batch; results are in the batch's order."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Preparing(Provider, Protocol):
    """A provider whose request is built apart from sending it (``send`` is both): the runner
    builds the next batch's request while one is in flight (newsletter/delivery/ahead.py)."""

    def prepare(self, batch: Sequence[Envelope]) -> Any:
        """The request for one edition's batch, built with no I/O."""
        ...

    def send_prepared(self, request: Any) -> list[Result]:
        """Send a request ``prepare`` built; results are in the batch's order."""
        ...
