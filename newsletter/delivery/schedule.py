"""When a scheduled campaign is due, read from what an editor types, and shown back in two zones.

Scheduling is ours, not the provider's: `send --at` records the campaign and nobody is frozen
or claimed until `campaigns run-due` (from cron or a systemd timer) or `newsletter worker`
finds it due. So readers who leave before the time are not mailed, a campaign can be
cancelled until it starts, and SMTP and dry runs schedule as well as SendGrid.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.errors import NewsletterError

__all__ = ["MAX_AHEAD", "describe", "parse_when", "zone"]

MAX_AHEAD = dt.timedelta(days=366)
"""Further ahead than this is almost certainly a typo in the year."""


def zone(name: str | None) -> dt.tzinfo | None:
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a folder, not a zone
        raise NewsletterError(
            f"--tz {name!r} is not a time zone; use an IANA name such as Asia/Hong_Kong"
        ) from None


def parse_when(value: str, tz: str | None, *, now: dt.datetime) -> dt.datetime:
    """An aware time from ISO 8601 with an offset, or a local time in the zone ``tz``."""
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise NewsletterError(
            f"--at {value!r} is not a time; write it like 2025-09-05T08:00+08:00, "
            "or 2025-09-05T08:00 with --tz Asia/Hong_Kong"
        ) from None
    if when.tzinfo is None:
        local = zone(tz)
        if local is None:
            raise NewsletterError(
                f"--at {value!r} has no time zone; add an offset like +08:00, or --tz "
                "Asia/Hong_Kong (or the timezone setting)"
            )
        when = when.replace(tzinfo=local)
    if when <= now:
        raise NewsletterError(f"--at {value!r} is in the past; give a time still to come")
    if when > now + MAX_AHEAD:
        raise NewsletterError(f"--at {value!r} is more than a year ahead; check the year")
    return when.astimezone(dt.UTC)


def describe(when: dt.datetime, tz: str | None) -> str:
    """``2025-09-05 08:00 HKT (+08:00), 2025-09-05 00:00 UTC``: the editor's zone, then UTC."""
    utc = f"{when.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    local = zone(tz)
    if local is None:
        return utc
    there = when.astimezone(local)
    offset = there.strftime("%z")
    return f"{there:%Y-%m-%d %H:%M} {there.tzname()} ({offset[:3]}:{offset[3:]}), {utc}"
