"""Article -> RenderedIssue: Jinja2 -> MJML -> premailer for HTML, Markdown tokens for text.

Runs once per issue; delivery only fills the per-recipient slots (newsletter.placeholders).
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from newsletter import markdown
from newsletter.article import Article
from newsletter.config import Settings
from newsletter.errors import ArticleError
from newsletter.issue import RenderedIssue
from newsletter.locales import Locale, load_locales
from newsletter.placeholders import Part, Slots, SlotTemplate
from newsletter.reading import reading_minutes
from newsletter.render.inline import inline_css
from newsletter.render.jinja import render_template
from newsletter.render.mjml import compile_mjml
from newsletter.render.text import body_text

__all__ = ["HTML_TEMPLATE", "TEXT_TEMPLATE", "issue_context", "render_issue"]

HTML_TEMPLATE = "email.mjml.j2"
TEXT_TEMPLATE = "email.txt.j2"
_PREHEADER_PADDING = "\u034f\u00a0" * 60
"""Invisible filler after the preheader, so inbox previews do not run on into the page."""


def render_issue(article: Article, settings: Settings) -> RenderedIssue:
    """Render the article into the finished email, once."""
    locale = locale_for(article, settings)
    slots = Slots.for_source(article.source)
    tokens = markdown.parse(article.body)
    text_body = body_text(tokens)
    minutes = reading_minutes(text_body)
    html_context = issue_context(article, settings, locale, slots, "h", minutes)
    html_context["body_html"] = Markup(markdown.body_html(tokens))
    mjml_source = render_template(settings.templates_dir, HTML_TEMPLATE, html_context)
    html = inline_css(compile_mjml(mjml_source, settings.templates_dir / HTML_TEMPLATE))
    text_context = issue_context(article, settings, locale, slots, "t", minutes)
    text_context["body_text"] = text_body
    text = render_template(settings.templates_dir, TEXT_TEMPLATE, text_context)
    return RenderedIssue(
        slug=article.slug,
        subject=article.subject,
        preheader=article.preheader,
        lang=article.lang,
        reading_minutes=minutes,
        first_name_fallback=locale.first_name_fallback,
        web_url=f"{settings.base_url}/archive/{article.slug}",
        mjml=mjml_source,
        html=html,
        text=text,
        slots=slots,
        html_template=SlotTemplate.compile(html, slots, "h"),
        text_template=SlotTemplate.compile(text, slots, "t"),
    )


def locale_for(article: Article, settings: Settings) -> Locale:
    locales = load_locales(settings.templates_dir)
    if article.lang not in locales:
        raise ArticleError(
            f"front matter 'lang' is {article.lang!r}; use one of {', '.join(sorted(locales))} "
            f"(or add it to {settings.templates_dir / 'locales.toml'})",
            path=article.path,
            line=article.line_of("lang"),
        )
    return locales[article.lang]


def issue_context(
    article: Article, settings: Settings, locale: Locale, slots: Slots, part: Part, minutes: int
) -> dict[str, Any]:
    """Variables every template sees; recipient.* are slot tokens, filled at send time."""
    recipient = slots.tokens(part)
    meta = [
        article.meta.author,
        locale.format_date(article.meta.date),
        locale.format_reading_time(minutes),
    ]
    return {
        "lang": article.lang,
        "locale": locale,
        "subject": article.subject,
        "preheader": article.preheader,
        "preheader_padding": _PREHEADER_PADDING,
        "article": article.meta,
        "meta_line": " · ".join(item for item in meta if item),
        "greeting": locale.greeting.format(first_name=recipient["first_name"]),
        "why_you_get_this": locale.why_you_get_this.format(newsletter=settings.newsletter_name),
        "recipient": recipient,
        "newsletter_name": settings.newsletter_name,
        "logo_url": settings.logo_url,
        "logo_alt": settings.logo_alt,
        "accent_color": settings.accent_color,
        "postal_address": settings.postal_address,
    }
