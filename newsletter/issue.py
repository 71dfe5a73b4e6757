"""RenderedIssue: the finished email of one article, rendered once, personalised per recipient."""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.placeholders import Slots, SlotTemplate

__all__ = ["RecipientFields", "RenderedIssue"]


@dataclass(frozen=True)
class RecipientFields:
    """The per-recipient values a rendered issue has slots for."""

    first_name: str | None
    unsubscribe_url: str
    web_url: str


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

    def values(self, fields: RecipientFields) -> dict[str, str]:
        """Slot values, unescaped, with the language's fallback for a missing first name."""
        return {
            "first_name": (fields.first_name or "").strip() or self.first_name_fallback,
            "unsubscribe_url": fields.unsubscribe_url,
            "web_url": fields.web_url,
        }

    def personalize(self, fields: RecipientFields) -> tuple[str, str]:
        """(html, text) for one recipient: a join over pre-split chunks, nothing more."""
        values = self.values(fields)
        return self.html_template.fill(values), self.text_template.fill(values)
