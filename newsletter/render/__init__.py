"""Article -> RenderedIssue: Jinja2 -> MJML -> premailer for HTML, Markdown tokens for text.

Runs once per issue; delivery only fills the per-recipient slots (newsletter.render.placeholders).
Each stage is a plain function of the previous stage's value, so benchmarks can time them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lxml.html
from markdown_it.token import Token
from markupsafe import Markup

from newsletter.compose import markdown
from newsletter.compose.article import Article
from newsletter.compose.editions import SIMPLIFIED, TRADITIONAL, simplified_locale
from newsletter.compose.locales import Locale, load_locales
from newsletter.compose.reading import reading_minutes
from newsletter.compose.sanitize import MAX_DEPTH, too_deep
from newsletter.config import Settings
from newsletter.errors import ArticleError, TemplateError
from newsletter.render.colours import DARK_CARD, dark_safe
from newsletter.render.inline import inline_css
from newsletter.render.issue import RenderedIssue
from newsletter.render.jinja import render_template
from newsletter.render.mjml import compile_mjml
from newsletter.render.placeholders import Part, Slots
from newsletter.render.text import body_text

__all__ = ["HTML_TEMPLATE", "TEXT_TEMPLATE", "Prepared", "prepare", "render_issue", "web_url"]

HTML_TEMPLATE = "email.mjml.j2"
TEXT_TEMPLATE = "email.txt.j2"
PREHEADER_SPACER = Markup("&zwnj;&nbsp;" * 140)
"""After the preheader: inbox previews show blank space, not the masthead's first words."""


@dataclass(frozen=True)
class Prepared:
    """The article parsed once, with everything both templates need."""

    article: Article
    settings: Settings
    locale: Locale
    slots: Slots
    tokens: list[Token]
    body_text: str
    minutes: int

    def html_context(self) -> dict[str, Any]:
        return {**self._context("h"), "body_html": Markup(markdown.body_html(self.tokens))}

    def text_context(self) -> dict[str, Any]:
        return {**self._context("t"), "body_text": self.body_text}

    def _context(self, part: Part) -> dict[str, Any]:
        """Variables every template sees; recipient.* are slot tokens, filled at send time."""
        article, settings, locale = self.article, self.settings, self.locale
        recipient = self.slots.tokens(part)
        meta = [
            article.meta.author,
            locale.format_date(article.meta.date),
            locale.format_reading_time(self.minutes),
        ]
        return {
            "lang": article.lang,
            "locale": locale,
            "subject": article.subject,
            "preheader": article.preheader,
            "article": article.meta,
            "meta_line": " · ".join(item for item in meta if item),
            "meta_items": [item for item in meta if item],
            "greeting": locale.greeting.format(first_name=recipient["first_name"]),
            "why_you_get_this": locale.why_you_get_this.format(newsletter=settings.newsletter_name),
            "recipient": recipient,
            "newsletter_name": settings.newsletter_name,
            "logo_url": settings.logo_url,
            "logo_alt": settings.logo_alt,
            "accent_color": settings.accent_color,
            "accent_color_dark": dark_safe(settings.accent_color),
            "dark_card": DARK_CARD,
            "preheader_spacer": PREHEADER_SPACER,
            "postal_address": settings.postal_address,
        }


def prepare(article: Article, settings: Settings) -> Prepared:
    """Parse the body once, pick the article's locale, write the text body, time the reading."""
    tokens = markdown.parse(article.body)
    deep = too_deep(markdown.raw_html(tokens))
    if deep is not None:
        line, depth = deep
        raise ArticleError(
            f"the raw HTML nests {depth} elements deep here, more than the {MAX_DEPTH} an email "
            "survives (deeper, the renderer drops the footer or crashes); flatten it",
            path=article.path,
            line=article.body_line + line,
        )
    return Prepared(
        article=article,
        settings=settings,
        locale=locale_for(article, settings),
        slots=Slots.for_source(article.source),
        tokens=tokens,
        body_text=body_text(tokens),
        minutes=reading_minutes(markdown.plain_text(tokens)),
    )


def render_issue(
    article: Article, settings: Settings, *, edition: str | None = None
) -> RenderedIssue:
    """Render the article into the finished email, once; ``edition`` names one not the original
    (newsletter.render.editions), whose web version lives under the original's."""
    prepared = prepare(article, settings)
    templates = settings.templates_dir
    mjml_source = render_template(templates, HTML_TEMPLATE, prepared.html_context())
    compiled = compile_mjml(mjml_source, templates / HTML_TEMPLATE)
    html = inline_css(compiled)
    text = render_template(templates, TEXT_TEMPLATE, prepared.text_context())
    _require_footer(prepared, compiled, html, text)
    return RenderedIssue.assemble(
        slug=article.slug,
        subject=article.subject,
        preheader=article.preheader,
        lang=article.lang,
        reading_minutes=prepared.minutes,
        first_name_fallback=prepared.locale.first_name_fallback,
        web_url=web_url(settings, article.slug, edition),
        mjml=mjml_source,
        html=html,
        text=text,
        slots=prepared.slots,
    )


def web_url(settings: Settings, slug: str, edition: str | None = None) -> str:
    """Where `serve` shows an issue (an edition other than the original: under it)."""
    return f"{settings.base_url}/archive/{slug}" + (f"/{edition}" if edition else "")


def _require_footer(prepared: Prepared, compiled: str, html: str, text: str) -> None:
    """Every copy must carry the unsubscribe link and the postal address, in both parts.

    The HTML parser under premailer stops at a nesting depth limit and silently drops the rest
    of the document, footer included: an article with 250 nested <div>s lost both.
    """
    settings, article = prepared.settings, prepared.article
    token = prepared.slots.token("h", "unsubscribe_url")
    address = settings.postal_address
    html_text = lxml.html.document_fromstring(html.encode("utf-8")).text_content()
    for what, ok, printed in (
        ("unsubscribe link", token in html, token in compiled),
        ("postal address", address in html_text, True),
    ):
        if ok:
            continue
        if printed:
            raise TemplateError(
                f"the finished HTML lost its {what}: HTML nested too deeply (in "
                f"{settings.templates_dir / HTML_TEMPLATE} or {article.path}) makes the HTML "
                "parser drop everything after it; flatten the nested elements"
            )
        raise TemplateError(
            f"{settings.templates_dir / HTML_TEMPLATE}: the email has no {what}; print "
            f"{'recipient.unsubscribe_url' if what.startswith('unsub') else 'postal_address'} in the footer"
        )
    if prepared.slots.token("t", "unsubscribe_url") not in text or address not in text:
        raise TemplateError(
            f"{settings.templates_dir / TEXT_TEMPLATE}: the plain-text part needs "
            "recipient.unsubscribe_url and postal_address in its footer"
        )


def locale_for(article: Article, settings: Settings) -> Locale:
    """The article's language from templates/locales.toml, or an error on its front matter line."""
    locales = load_locales(settings.templates_dir)
    if article.lang == SIMPLIFIED and SIMPLIFIED not in locales and TRADITIONAL in locales:
        return simplified_locale(locales[TRADITIONAL], settings)  # a table from before editions
    if article.lang not in locales:
        raise ArticleError(
            f"front matter 'lang' is {article.lang!r}; use one of {', '.join(sorted(locales))} "
            f"(or add it to {settings.templates_dir / 'locales.toml'})",
            path=article.path,
            line=article.line_of("lang"),
        )
    return locales[article.lang]
