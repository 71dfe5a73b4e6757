"""What every QA rule reads (the sample reader's finished message, parsed once) and returns."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import lxml.html
from lxml.html import HtmlElement
from markdown_it.token import Token

from newsletter.compose import markdown
from newsletter.compose.article import Article
from newsletter.config import Settings
from newsletter.render.issue import RecipientFields, RenderedIssue
from newsletter.render.mime import Composed

__all__ = ["Finding", "Inspection", "Rule", "Severity"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    message: str
    where: str = ""
    fix: str = ""


@dataclass(frozen=True)
class Inspection:
    """Everything a rule may look at, parsed once."""

    article: Article
    issue: RenderedIssue
    sample: Composed
    fields: RecipientFields
    settings: Settings
    tree: HtmlElement

    @cached_property
    def body_tokens(self) -> list[Token]:
        """The article body's Markdown tokens, parsed once for every rule that reads the source."""
        return markdown.parse(self.article.body)

    @classmethod
    def of(
        cls,
        article: Article,
        issue: RenderedIssue,
        sample: Composed,
        fields: RecipientFields,
        settings: Settings,
    ) -> Inspection:
        tree = lxml.html.document_fromstring(sample.html.encode("utf-8"))
        return cls(article, issue, sample, fields, settings, tree)


Rule = Callable[[Inspection], Iterator[Finding]]
