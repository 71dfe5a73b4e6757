"""RenderedIssue: the finished email of one article, rendered once, personalised per recipient."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from newsletter.languages import edition_for
from newsletter.render.placeholders import Slots, SlotTemplate

__all__ = ["Editions", "RecipientFields", "RenderedIssue"]


class RecipientFields(NamedTuple):
    """The per-recipient values a rendered issue has slots for (one per reader)."""

    first_name: str | None
    unsubscribe_url: str
    web_url: str
    click_reader: str = ""
    """The reader's part of tracked links (per-reader click tracking only)."""


_SNAPSHOT_FIELDS = (
    "slug", "subject", "preheader", "lang", "reading_minutes", "first_name_fallback", "web_url",
    "mjml", "html", "text",
)  # fmt: skip
"""What a snapshot holds besides the salt (the issue's record may keep more beside it)."""


@dataclass(frozen=True)
class RenderedIssue:
    """HTML and text with per-recipient slots; everything else is final."""

    slug: str
    subject: str
    preheader: str
    lang: str
    reading_minutes: int
    first_name_fallback: str
    web_url: str
    mjml: str
    html: str
    text: str
    slots: Slots
    html_template: SlotTemplate
    text_template: SlotTemplate

    @classmethod
    def assemble(
        cls,
        *,
        slug: str,
        subject: str,
        preheader: str,
        lang: str,
        reading_minutes: int,
        first_name_fallback: str,
        web_url: str,
        mjml: str,
        html: str,
        text: str,
        slots: Slots,
    ) -> RenderedIssue:
        """The issue from its finished parts, split at its slots for cheap filling."""
        return cls(
            slug=slug,
            subject=subject,
            preheader=preheader,
            lang=lang,
            reading_minutes=reading_minutes,
            first_name_fallback=first_name_fallback,
            web_url=web_url,
            mjml=mjml,
            html=html,
            text=text,
            slots=slots,
            html_template=SlotTemplate.compile(html, slots, "h"),
            text_template=SlotTemplate.compile(text, slots, "t"),
        )

    def with_html(self, html: str) -> RenderedIssue:
        """The same issue with another HTML part (click tracking's rewritten links)."""
        return RenderedIssue.assemble(
            slug=self.slug,
            subject=self.subject,
            preheader=self.preheader,
            lang=self.lang,
            reading_minutes=self.reading_minutes,
            first_name_fallback=self.first_name_fallback,
            web_url=self.web_url,
            mjml=self.mjml,
            html=html,
            text=self.text,
            slots=self.slots,
        )

    def snapshot(self) -> dict[str, Any]:
        """Plain data to store with the issue: resumes, retries and the archive send exactly this."""
        return {
            "slug": self.slug,
            "subject": self.subject,
            "preheader": self.preheader,
            "lang": self.lang,
            "reading_minutes": self.reading_minutes,
            "first_name_fallback": self.first_name_fallback,
            "web_url": self.web_url,
            "mjml": self.mjml,
            "html": self.html,
            "text": self.text,
            "salt": self.slots.salt,
        }

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> RenderedIssue:
        """The issue as it was stored by ``snapshot``, without rendering anything again."""
        fields = {key: data[key] for key in _SNAPSHOT_FIELDS}
        return cls.assemble(**fields, slots=Slots(data["salt"]))

    def values(self, fields: RecipientFields) -> dict[str, str]:
        """Slot values, unescaped, with the language's fallback for a missing first name."""
        return {
            "first_name": (fields.first_name or "").strip() or self.first_name_fallback,
            "unsubscribe_url": fields.unsubscribe_url,
            "web_url": fields.web_url,
            "click_reader": fields.click_reader,
        }

    def personalize(self, fields: RecipientFields) -> tuple[str, str]:
        """(html, text) for one recipient: a join over pre-split chunks, nothing more."""
        values = self.values(fields)
        return self.html_template.fill(values), self.text_template.fill(values)


@dataclass(frozen=True)
class Editions:
    """One issue's renders, one per edition (newsletter.render.editions), by language; the
    first is the original, which readers whose language has no edition get."""

    renders: dict[str, RenderedIssue]

    @classmethod
    def single(cls, issue: RenderedIssue) -> Editions:
        return cls({issue.lang: issue})

    @property
    def original(self) -> RenderedIssue:
        return next(iter(self.renders.values()))

    @property
    def langs(self) -> tuple[str, ...]:
        return tuple(self.renders)

    def pick(self, reader_lang: str | None) -> str:
        """The edition a reader with this language gets."""
        return edition_for(reader_lang, self.langs)

    def snapshot(self) -> dict[str, Any]:
        """The original's snapshot, with the others in order under ``editions`` (a list: JSONB
        does not keep the order of an object's keys, and link positions depend on it)."""
        first, *others = self.renders.values()
        data = first.snapshot()
        if others:
            data["editions"] = [issue.snapshot() for issue in others]
            data["edition_index"] = [
                {"lang": i.lang, "subject": i.subject, "preheader": i.preheader} for i in others
            ]  # what the archive's index and feeds read, without loading every edition
        return data

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> Editions:
        own = {key: value for key, value in data.items() if key != "editions"}
        issues = [RenderedIssue.from_snapshot(own)]
        issues += [RenderedIssue.from_snapshot(other) for other in data.get("editions", [])]
        return cls({issue.lang: issue for issue in issues})
