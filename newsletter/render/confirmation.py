"""The double opt-in email, through the issue's own pipeline: Jinja2 -> MJML -> premailer."""

from __future__ import annotations

from newsletter.compose.locales import load_locales
from newsletter.config import Settings
from newsletter.render.inline import inline_css
from newsletter.render.jinja import render_template
from newsletter.render.mjml import compile_mjml
from newsletter.render.pages import Pages
from newsletter.render.transactional import Transactional, new_message_id

__all__ = ["HTML_TEMPLATE", "TEXT_TEMPLATE", "confirmation_message"]

HTML_TEMPLATE = "confirm.mjml.j2"
TEXT_TEMPLATE = "confirm.txt.j2"


def confirmation_message(
    settings: Settings, pages: Pages, *, to: str, name: str | None, lang: str, confirm_url: str
) -> Transactional:
    """The email asking ``to`` to confirm, in the language they chose."""
    t = pages.strings[lang]
    locales = load_locales(settings.templates_dir)
    locale = locales.get(lang) or locales.get("en") or next(iter(locales.values()))
    context = {
        "lang": lang,
        "t": t,
        "subject": t.confirm_email_subject,
        "font_family": locale.font_family,
        "newsletter_name": settings.newsletter_name,
        "accent_color": settings.accent_color,
        "postal_address": settings.postal_address,
        "confirm_url": confirm_url,
    }
    templates = settings.templates_dir
    mjml = render_template(templates, HTML_TEMPLATE, context)
    return Transactional(
        to_email=to,
        to_name=name,
        subject=t.confirm_email_subject,
        html=inline_css(compile_mjml(mjml, templates / HTML_TEMPLATE)),
        text=render_template(templates, TEXT_TEMPLATE, context),
        message_id=new_message_id(settings),
        category="confirmation",
    )
