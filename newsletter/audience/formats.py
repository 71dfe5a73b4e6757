"""Recognise a subscriber file's format from its header and turn each row into a Candidate.

Formats: Mailchimp audience exports (subscribed, unsubscribed, cleaned), listmonk
(``email,name,attributes`` and its export with ``status``), this project's own export, and a
plain list of addresses with or without a header. ``--map column=field`` covers anything else.
Only a Mailchimp subscribed export, our own export, or ``--consent`` makes a row subscribed.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from newsletter.addresses import Address, InvalidAddress, normalize
from newsletter.audience.csvsource import CsvImportError
from newsletter.audience.export import COLUMNS as NATIVE_COLUMNS
from newsletter.audience.export import unescape_cell
from newsletter.audience.models import SUPPRESSED, Status
from newsletter.audience.rows import RowProblem, check_row
from newsletter.audience.store import Consent
from newsletter.languages import canonical

__all__ = ["FIELDS", "Candidate", "Format", "RejectedRow", "detect"]

FIELDS = (
    "email",
    "name",
    "first_name",
    "last_name",
    "lang",
    "tags",
    "status",
    "attributes",
    "ignore",
)
"""What --map may name; ``attr:NAME`` keeps a column as a free attribute."""

_ALIASES = {
    "email": {
        "email",
        "e-mail",
        "emailaddress",
        "mail",
        "電子郵件",
        "電郵",
        "電子郵箱",
        "郵箱",
        "邮箱",
        "emailadresse",
    },
    "name": {"name", "fullname", "姓名", "名稱", "名字"},
    "first_name": {"firstname", "givenname", "vorname", "名"},
    "last_name": {"lastname", "surname", "familyname", "nachname", "姓"},
    "lang": {"lang", "language", "locale", "語言"},
    "tags": {"tags", "tag", "labels", "標籤"},
}
_MAILCHIMP_MARKERS = {"MEMBER_RATING", "LEID", "EUID", "OPTIN_TIME"}
_MAILCHIMP_NOISE = {
    "MEMBER_RATING",
    "LATITUDE",
    "LONGITUDE",
    "GMTOFF",
    "DSTOFF",
    "TIMEZONE",
    "CC",
    "REGION",
    "LAST_CHANGED",
}
_SUPPRESSED_NAMES = frozenset(status.value for status in SUPPRESSED)


class RejectedRow(ValueError):
    """One row cannot be imported; the message is its reason in the reject file."""


@dataclass
class Candidate:
    """One row as the store would take it."""

    line: int
    address: Address
    status: Status
    name: str | None = None
    lang: str | None = None
    tags: tuple[str, ...] = ()
    consent: Consent | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    exact: dict[str, Any] = field(default_factory=dict)
    """Our own export: timestamps, source and bounce data taken as written."""
    reason: str | None = None


@dataclass(frozen=True)
class Format:
    """How to read the rows of one sheet."""

    name: str
    columns: Mapping[int, str]
    width: int
    header_is_data: bool
    kind: str  # mailchimp-subscribed | mailchimp-unsubscribed | mailchimp-cleaned | listmonk | native | generic
    header: tuple[str, ...]

    def candidate(
        self,
        line: int,
        cells: list[str],
        *,
        consent: Consent | None,
        default_lang: str | None = None,
    ) -> Candidate:
        if len(cells) < self.width or any(c.strip() for c in cells[self.width :]):
            raise RejectedRow(f"wrong column count (expected {self.width}, got {len(cells)})")
        values: dict[str, str] = {}
        attributes: dict[str, Any] = {}
        for index, target in self.columns.items():
            cell = unescape_cell(cells[index]) if self.kind == "native" else cells[index].strip()
            if target.startswith("attr:") and cell:
                attributes[target[5:]] = cell
            elif target != "ignore":
                values[target] = cell
        if not values.get("email"):
            raise RejectedRow("missing email")
        try:
            address = normalize(values["email"])
        except InvalidAddress as exc:
            raise RejectedRow(f"invalid address: {exc}") from None
        reader = _READERS[self.kind]
        candidate = reader(self, line, address, values, attributes, consent)
        candidate.lang = candidate.lang or default_lang  # Mailchimp rows have no language
        _validate(candidate)
        return candidate


def _validate(candidate: Candidate) -> None:
    """Every format's rows pass the one row model (newsletter/audience/rows.py) before storing."""
    exact, consent = candidate.exact, candidate.consent
    times = {key: value for key, value in exact.items() if key.endswith("_at")}
    if consent is not None:
        times["consent_at"] = consent.at
    try:
        row = check_row(
            name=candidate.name,
            lang=candidate.lang,
            tags=candidate.tags,
            attributes=candidate.attributes,
            consent_ip=exact.get("consent_ip") or (consent.ip if consent else None),
            bounce_count=exact.get("bounce_count", 0),
            times=times,
        )
    except RowProblem as exc:
        raise RejectedRow(str(exc)) from None
    candidate.tags, candidate.attributes, candidate.lang = row.tags, dict(row.attributes), row.lang


def detect(sheet_name: str, header: list[str], mapping: Mapping[str, str]) -> Format:
    """Pick the format from the header (and the file name for Mailchimp)."""
    if mapping:
        return _mapped(header, mapping)
    if header == list(NATIVE_COLUMNS):
        return Format(
            "newsletter export",
            dict(enumerate(NATIVE_COLUMNS)),
            len(header),
            False,
            "native",
            tuple(header),
        )
    if _MAILCHIMP_MARKERS & set(header):
        return _mailchimp(sheet_name, header)
    if len(header) == 1 and "@" in header[0]:
        try:
            normalize(header[0])
        except InvalidAddress:
            pass
        else:
            return Format("plain list of addresses", {0: "email"}, 1, True, "generic", ("email",))
    columns = _by_alias(header)
    if "email" not in columns.values():
        shown = ", ".join(repr(h) for h in header[:8])
        raise CsvImportError(
            f"no email column among {shown}; name it with --map 'COLUMN=email' (fields: {', '.join(FIELDS)}, attr:NAME)"
        )
    kind = "listmonk" if "email" in header and ({"attributes", "uuid"} & set(header)) else "generic"
    name = "listmonk" if kind == "listmonk" else "list with a header"
    return Format(name, columns, len(header), False, kind, tuple(header))


def _canonical(header_cell: str) -> str:
    return re.sub(r"[\s_\-]+", "", header_cell.strip().lower())


def _by_alias(header: list[str]) -> dict[int, str]:
    columns: dict[int, str] = {}
    for index, cell in enumerate(header):
        canonical = _canonical(cell)
        target = next((f for f, names in _ALIASES.items() if canonical in names), None)
        if cell == "attributes":
            target = "attributes"
        elif cell.lower() == "status":
            target = "status"
        if target and target not in columns.values():
            columns[index] = target
        elif cell:
            columns[index] = f"attr:{cell}"
    return columns


def _mapped(header: list[str], mapping: Mapping[str, str]) -> Format:
    columns = _by_alias(header)
    for column, target in mapping.items():
        if column not in header:
            raise CsvImportError(
                f"--map names column {column!r}, which the header does not have ({', '.join(header[:8])})"
            )
        if target not in FIELDS and not target.startswith("attr:"):
            raise CsvImportError(
                f"--map {column}={target}: the field must be one of {', '.join(FIELDS)} or attr:NAME"
            )
        for index, existing in list(columns.items()):
            if existing == target:
                columns[index] = f"attr:{header[index]}"
        columns[header.index(column)] = target
    if "email" not in columns.values():
        raise CsvImportError("no column is mapped to email; add --map 'COLUMN=email'")
    return Format("mapped columns", columns, len(header), False, "generic", tuple(header))


def _mailchimp(sheet_name: str, header: list[str]) -> Format:
    base = sheet_name.rsplit("/", 1)[-1].lower()
    if base.startswith("cleaned") or "CLEAN_TIME" in header:
        kind = "mailchimp-cleaned"
    elif base.startswith("unsubscribed") or "UNSUB_TIME" in header:
        kind = "mailchimp-unsubscribed"
    else:
        kind = "mailchimp-subscribed"
    columns = _by_alias(header)
    if "email" not in columns.values():
        columns[0] = "email"  # localised exports keep the address first
    for index, cell in enumerate(header):
        if cell in _MAILCHIMP_NOISE:
            columns[index] = "ignore"
        elif cell.isupper() or cell == "TAGS":
            columns[index] = "tags" if cell == "TAGS" else f"mc:{cell}"
    label = kind.replace("mailchimp-", "Mailchimp ") + " export"
    return Format(label, columns, len(header), False, kind, tuple(header))


def _read_mailchimp(
    fmt: Format,
    line: int,
    address: Address,
    values: dict[str, str],
    attributes: dict[str, Any],
    consent: Consent | None,
) -> Candidate:
    system = {target[3:]: values.pop(target) for target in list(values) if target.startswith("mc:")}
    for key in ("LEID", "EUID", "NOTES"):
        if system.get(key):
            attributes[f"mailchimp_{key.lower()}"] = system[key]
    candidate = _base(line, address, values, attributes)
    if fmt.kind == "mailchimp-subscribed":
        when = _mailchimp_time(system.get("CONFIRM_TIME") or system.get("OPTIN_TIME"))
        ip = system.get("CONFIRM_IP") or system.get("OPTIN_IP") or None
        candidate.status = Status.SUBSCRIBED
        candidate.consent = Consent("Mailchimp export: subscribed", at=when, ip=ip)
    elif fmt.kind == "mailchimp-unsubscribed":
        candidate.status = Status.UNSUBSCRIBED
        candidate.exact["unsubscribed_at"] = _mailchimp_time(system.get("UNSUB_TIME"))
        candidate.reason = (
            " ".join(filter(None, [system.get("UNSUB_REASON"), system.get("UNSUB_REASON_OTHER")]))
            or "Mailchimp export: unsubscribed"
        )
    else:
        candidate.status = Status.BOUNCED
        title = system.get("CLEAN_CAMPAIGN_TITLE")
        candidate.exact["last_bounce_reason"] = "cleaned by Mailchimp" + (
            f" after {title}" if title else ""
        )
        candidate.reason = "Mailchimp export: cleaned"
    return candidate


def _read_generic(
    fmt: Format,
    line: int,
    address: Address,
    values: dict[str, str],
    attributes: dict[str, Any],
    consent: Consent | None,
) -> Candidate:
    candidate = _base(line, address, values, attributes)
    if values.get("attributes"):
        extra = _json(values["attributes"], "attributes")
        if not isinstance(extra, dict):
            raise RejectedRow("attributes is not a JSON object")
        candidate.attributes = {**extra, **attributes}
    stated = values.get("status", "").lower()
    if stated in ("blocklisted", "blocked"):
        candidate.status, candidate.reason = Status.BLOCKED, "blocklisted in the imported file"
    elif stated in _SUPPRESSED_NAMES:
        candidate.status, candidate.reason = Status(stated), f"{stated} in the imported file"
    else:
        candidate.status = Status.SUBSCRIBED if consent else Status.PENDING
        candidate.consent = consent
    return candidate


def _read_native(
    fmt: Format,
    line: int,
    address: Address,
    values: dict[str, str],
    attributes: dict[str, Any],
    consent: Consent | None,
) -> Candidate:
    try:
        status = Status(values["status"])
        tags = _json(values["tags"] or "[]", "tags")
        attrs = _json(values["attributes"] or "{}", "attributes")
        exact: dict[str, Any] = {
            key: _iso(values[key])
            for key in (
                "created_at",
                "confirmed_at",
                "unsubscribed_at",
                "status_changed_at",
                "consent_at",
            )
        }
        bounces = int(values["bounce_count"] or 0)
    except (ValueError, KeyError) as exc:
        raise RejectedRow(f"not a valid newsletter export row: {exc}") from None
    exact.update(
        source=values["source"] or None,
        consent_method=values["consent_method"] or None,
        consent_ip=values["consent_ip"] or None,
        consent_user_agent=values["consent_user_agent"] or None,
        bounce_count=bounces,
        last_bounce_reason=values["last_bounce_reason"] or None,
    )
    return Candidate(
        line=line,
        address=address,  # normalised like every other format: " N@Example.COM " is n@example.com
        status=status,
        name=values["name"] or None,
        lang=values["lang"] or None,
        tags=tags,
        attributes=attrs,
        exact=exact,
        reason="imported from a newsletter export",
    )


_READERS = {
    "mailchimp-subscribed": _read_mailchimp,
    "mailchimp-unsubscribed": _read_mailchimp,
    "mailchimp-cleaned": _read_mailchimp,
    "listmonk": _read_generic,
    "generic": _read_generic,
    "native": _read_native,
}


def _base(
    line: int, address: Address, values: dict[str, str], attributes: dict[str, Any]
) -> Candidate:
    return Candidate(
        line=line,
        address=address,
        status=Status.PENDING,
        name=_name(values),
        lang=_lang(values.get("lang")),
        tags=parse_tags(values.get("tags", "")),
        attributes=attributes,
    )


def _name(values: dict[str, str]) -> str | None:
    if values.get("name"):
        return " ".join(values["name"].split())
    first, last = values.get("first_name", "").strip(), values.get("last_name", "").strip()
    if first and last and _is_cjk(first + last):
        return last + first  # 陳 + 大文 -> 陳大文
    return " ".join(part for part in (first, last) if part) or None


def _is_cjk(text: str) -> bool:
    return all("\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" for c in text)


def _lang(value: str | None) -> str | None:
    """Canonical (zh-CN as zh-Hans); English in any region as en, the edition it reads."""
    if not value or not value.strip():
        return None
    tag = canonical(value.strip())
    return "en" if tag.split("-")[0] == "en" else tag


@functools.lru_cache(maxsize=4096)
def parse_tags(cell: str) -> tuple[str, ...]:
    """Mailchimp writes ``"A","B"``; others ``a, b`` or ``a; b``; our export a JSON list.

    Cached: a list repeats a few combinations of tags over thousands of rows."""
    cell = cell.strip()
    if not cell:
        return ()
    if '"' not in cell and ";" not in cell and not cell.startswith("["):
        return tuple(dict.fromkeys(item.strip() for item in cell.split(",") if item.strip()))
    if cell.startswith("["):
        try:
            return tuple(str(t) for t in json.loads(cell))
        except (json.JSONDecodeError, RecursionError, TypeError):
            pass  # not a JSON list after all: read it as text
    flat = ",".join(cell.replace(";", ",").splitlines())  # a line break separates tags too
    items = next(csv.reader([flat], skipinitialspace=True))
    return tuple(
        dict.fromkeys(item.strip().strip('"').strip() for item in items if item.strip().strip('"'))
    )


def _mailchimp_time(value: str | None) -> dt.datetime | None:
    """Mailchimp writes 'YYYY-MM-DD HH:MM:SS' without a zone; we read it as UTC."""
    if not value:
        return None
    try:
        return dt.datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _json(text: str, field: str) -> Any:
    """A JSON cell; too deep or not JSON at all is the row's fault, said in its reject line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise RejectedRow(f"{field} is not valid JSON") from None
    except RecursionError:
        raise RejectedRow(f"{field} is nested too deeply") from None


def _iso(value: str) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
