"""Complaint, bounce and unsubscribe rates against the limits mailbox providers publish.

Gmail's and Yahoo's bulk-sender rules (February 2024) ask senders to keep spam complaints
below 0.1 % and never reach 0.3 %, measured against mail delivered; from 0.3 % Gmail starts
rejecting or junking the domain's mail. A bounce rate above 2 % is the usual sign of a list
that needs cleaning (SendGrid and Mailchimp warn at that level).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["BOUNCE_WARNING", "COMPLAINT_ERROR", "COMPLAINT_WARNING", "Level", "Rates"]

COMPLAINT_WARNING = 0.001
COMPLAINT_ERROR = 0.003
BOUNCE_WARNING = 0.02


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Rates:
    """One campaign's counts and what they come to; a rate is None with nothing to divide by."""

    sent: int
    delivered: int
    bounced: int
    complained: int
    unsubscribed: int
    events: bool
    """Whether the provider reports deliveries: without them rates are over messages sent."""

    @property
    def reached(self) -> int:
        """What complaints and unsubscribes are measured against: delivered, else sent."""
        return self.delivered if self.events else self.sent

    @property
    def complaint_rate(self) -> float | None:
        return self.complained / self.reached if self.reached else None

    @property
    def bounce_rate(self) -> float | None:
        return self.bounced / self.sent if self.sent else None

    @property
    def unsubscribe_rate(self) -> float | None:
        return self.unsubscribed / self.reached if self.reached else None

    @property
    def complaint_level(self) -> Level:
        rate = self.complaint_rate or 0.0
        if rate >= COMPLAINT_ERROR:
            return Level.ERROR
        return Level.WARNING if rate >= COMPLAINT_WARNING else Level.OK

    @property
    def bounce_level(self) -> Level:
        return Level.WARNING if (self.bounce_rate or 0.0) >= BOUNCE_WARNING else Level.OK

    def warnings(self) -> list[tuple[Level, str]]:
        """Each rate at or over its limit, as one line that says what to do."""
        found: list[tuple[Level, str]] = []
        if self.complaint_level is not Level.OK:
            limit = "0.3 %" if self.complaint_level is Level.ERROR else "0.1 %"
            found.append(
                (
                    self.complaint_level,
                    f"complaint rate {percent(self.complaint_rate)} is at or over {limit} "
                    "(Gmail and Yahoo's limit for bulk senders): send only to readers who asked "
                    "recently, make unsubscribing easy to find, and check the list's sources",
                )
            )
        if self.bounce_level is not Level.OK:
            found.append(
                (
                    Level.WARNING,
                    f"bounce rate {percent(self.bounce_rate)} is at or over 2 %: "
                    "the list has stale or mistyped addresses; re-confirm old imports",
                )
            )
        return found


def percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.2f} %"
