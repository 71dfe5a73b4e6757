"""The per-recipient contract: named slots left in the rendered issue, filled at send time.

An issue is rendered once. Wherever a template prints a per-recipient field it prints a token
``@@nl.<salt>.<part>.<field>@@``: ``part`` is ``h`` in the HTML and ``t`` in the text, so the
HTML value can be escaped and the text value left alone, even by a provider (SendGrid) that
substitutes both parts with one table. ``salt`` is derived from the article's source, so an
article cannot contain a token of its own issue: whatever an editor writes stays text.

Tokens are plain ASCII without markup characters, so MJML, premailer and lxml pass them
through untouched, including inside href attributes (tests/render/test_placeholders.py).
Filling is a join over pre-split chunks: no parsing, no regex per recipient.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from newsletter.errors import TemplateError

__all__ = ["FIELDS", "SLOT_FIELDS", "Part", "SlotTemplate", "Slots"]

FIELDS = ("first_name", "unsubscribe_url", "web_url")
"""Every per-recipient field a template may print, through ``recipient.<field>``."""
SLOT_FIELDS = (*FIELDS, "click_reader")
"""Also the reader's part of tracked links, which click tracking puts in hrefs after rendering."""

Part = Literal["h", "t"]


@dataclass(frozen=True)
class Slots:
    """The tokens of one issue."""

    salt: str

    @classmethod
    def for_source(cls, source: str) -> Slots:
        return cls(hashlib.sha256(source.encode("utf-8")).hexdigest()[:12])

    def token(self, part: Part, field: str) -> str:
        return f"@@nl.{self.salt}.{part}.{field}@@"

    def tokens(self, part: Part) -> dict[str, str]:
        """field -> token, for a template's ``recipient`` variable."""
        return {field: self.token(part, field) for field in FIELDS}

    def pattern(self, part: Part) -> re.Pattern[str]:
        return re.compile(rf"@@nl\.{self.salt}\.{part}\.([a-z_]+)@@")


@dataclass(frozen=True)
class SlotTemplate:
    """A finished part (HTML or text) split around its tokens, ready for cheap filling."""

    chunks: tuple[str, ...]
    fields: tuple[str, ...]
    escape: Callable[[str], str]

    @classmethod
    def compile(cls, source: str, slots: Slots, part: Part) -> SlotTemplate:
        pieces = slots.pattern(part).split(source)
        chunks, fields = tuple(pieces[0::2]), tuple(pieces[1::2])
        unknown = sorted(set(fields) - set(SLOT_FIELDS))
        if unknown:
            raise TemplateError(
                f"unknown recipient field(s) {', '.join(unknown)}; use {', '.join(FIELDS)}"
            )
        escape = html.escape if part == "h" else _identity
        return cls(chunks, fields, escape)

    def fill(self, values: Mapping[str, str]) -> str:
        """Interleave escaped values with the fixed chunks."""
        escaped = {field: self.escape(values[field]) for field in set(self.fields)}
        out = [self.chunks[0]]
        for field, chunk in zip(self.fields, self.chunks[1:], strict=True):
            out.append(escaped[field])
            out.append(chunk)
        return "".join(out)


def _identity(value: str) -> str:
    return value
