"""One validated model for every subscriber row that is stored, whatever brought it in.

Import (every format), `subscribers add` and the sign-up form all pass their row through
``SubscriberRow`` before anything is written, with the same limits as the schema, so a row
is refused with its reason instead of stored in a shape that breaks `list`, `export` or a
send later, and so SQLite (which would store anything) and PostgreSQL (which aborts the whole
transaction) behave alike.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints, ValidationError

from newsletter.languages import canonical
from newsletter.recipients import NAME_LIMIT, name_problem

__all__ = [
    "ATTRIBUTES_LIMIT",
    "CLOCK_SKEW",
    "LANG_LIMIT",
    "TAG_LIMIT",
    "RowProblem",
    "SubscriberRow",
    "check_row",
]

LANG_LIMIT = 16
TAG_LIMIT = 100
IP_LIMIT = 64
ATTRIBUTES_LIMIT = 10_000
"""Characters of attributes as JSON: merge fields and a few notes, not a document."""
BOUNCE_LIMIT = 1_000_000
CLOCK_SKEW = dt.timedelta(minutes=5)
"""How far in the future a stated time may be: clocks differ a little, history does not."""

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TAG_LIMIT)]


class RowProblem(ValueError):
    """The row cannot be stored; the message names the field and why."""


class SubscriberRow(BaseModel):
    """The fields of a subscriber as they will be stored (the address is checked before)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str | None = Field(default=None, max_length=NAME_LIMIT)
    lang: str | None = Field(
        default=None, max_length=LANG_LIMIT, pattern=r"^[A-Za-z]{1,8}([-_][A-Za-z0-9]{1,8})*$"
    )
    tags: tuple[Tag, ...] = ()
    attributes: dict[str, JsonValue] = Field(default_factory=dict)
    consent_ip: str | None = Field(default=None, max_length=IP_LIMIT)
    bounce_count: int = Field(default=0, ge=0, le=BOUNCE_LIMIT)
    times: dict[str, dt.datetime | None] = Field(default_factory=dict)


def check_row(
    *,
    name: str | None = None,
    lang: str | None = None,
    tags: Any = (),
    attributes: Any = None,
    consent_ip: str | None = None,
    bounce_count: Any = 0,
    times: dict[str, dt.datetime | None] | None = None,
    now: dt.datetime | None = None,
) -> SubscriberRow:
    """The row, validated; RowProblem names the first field that cannot be stored.

    The language is stored in its canonical form: ``zh-CN`` as ``zh-Hans``, ``en_gb`` as ``en-GB``.
    """
    try:
        row = SubscriberRow(
            name=name,
            lang=canonical(lang) if isinstance(lang, str) else lang,
            tags=tuple(tags) if isinstance(tags, list | tuple) else tags,
            attributes={} if attributes is None else attributes,
            consent_ip=consent_ip,
            bounce_count=bounce_count,
            times=times or {},
        )
    except ValidationError as exc:
        raise RowProblem(_first(exc)) from None
    _check_size(row.attributes)
    _check_times(row.times, now or dt.datetime.now(dt.UTC))
    return row


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = error["loc"][0] if error["loc"] else "row"
    if field == "name" and isinstance(error["input"], str):
        return name_problem(error["input"]) or "name must be text"
    if field == "tags":
        return f"tags must be a list of texts of 1 to {TAG_LIMIT} characters"
    if field == "attributes":
        return "attributes must be a JSON object"
    if field == "lang":
        return (
            f"lang must be a language code such as zh-Hant or en (at most {LANG_LIMIT} characters)"
        )
    if field == "bounce_count":
        return f"bounce_count must be a whole number from 0 to {BOUNCE_LIMIT:,}"
    reason = str(error["msg"]).removeprefix("Value error, ")
    return f"{field}: {reason}"


def _check_size(attributes: dict[str, Any]) -> None:
    if attributes and len(json.dumps(attributes, ensure_ascii=False)) > ATTRIBUTES_LIMIT:
        raise RowProblem(f"attributes are over {ATTRIBUTES_LIMIT:,} characters as JSON")


def _check_times(times: dict[str, dt.datetime | None], now: dt.datetime) -> None:
    for field, moment in times.items():
        if moment is not None and moment > now + CLOCK_SKEW:
            raise RowProblem(f"{field} {moment.isoformat()} is in the future")
