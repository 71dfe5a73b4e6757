"""RenderedIssue: the finished email of one article, rendered once, personalised per recipient."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from newsletter.render.placeholders import Slots, SlotTemplate

__all__ = ["RecipientFields", "RenderedIssue"]


@dataclass(frozen=True)
class RecipientFields:
    """The per-recipient values a rendered issue has slots for."""

    first_name: str | None
    unsubscribe_url: str
    web_url: str
    click_reader: str = ""
    """The reader's part of tracked links (per-reader click tracking only)."""


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
        fields = {key: value for key, value in data.items() if key != "salt"}
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
