"""The per-recipient contract: slots survive MJML and premailer, and filling them is safe."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.compose.article import read_article
from newsletter.errors import TemplateError
from newsletter.render import render_issue
from newsletter.render.inline import inline_css
from newsletter.render.issue import RecipientFields
from newsletter.render.mjml import compile_mjml
from newsletter.render.placeholders import FIELDS, Slots, SlotTemplate
from tests.conftest import SAMPLE_ARTICLE


def test_every_slot_survives_mjml_and_premailer_untouched(settings) -> None:
    issue = render_issue(read_article(SAMPLE_ARTICLE), settings)
    compiled = compile_mjml(issue.mjml, settings.templates_dir / "email.mjml.j2")
    inlined = inline_css(compiled)
    for field in FIELDS:
        token = issue.slots.token("h", field)
        assert issue.mjml.count(token) >= 1
        assert compiled.count(token) == issue.mjml.count(token), field
        assert inlined.count(token) == issue.mjml.count(token), field
        assert issue.text.count(issue.slots.token("t", field)) >= 1
    assert f'href="{issue.slots.token("h", "unsubscribe_url")}"' in inlined


def test_slots_in_query_strings_and_attributes_survive_inlining() -> None:
    slots = Slots("abc123")
    token = slots.token("h", "web_url")
    mjml = (
        "<mjml><mj-body><mj-section><mj-column><mj-text>"
        f'<a href="https://example.com/r?to={token}&amp;x=1" title="{token}">{token}</a>'
        "</mj-text></mj-column></mj-section></mj-body></mjml>"
    )
    html = inline_css(compile_mjml(mjml, Path("inline.mjml")))
    assert f'href="https://example.com/r?to={token}&amp;x=1"' in html
    assert html.count(token) == 3


def test_filling_escapes_html_but_not_text(settings) -> None:
    issue = render_issue(read_article(SAMPLE_ARTICLE), settings)
    html, text = issue.personalize(
        RecipientFields(
            '<b>Tom & "Jerry"</b>',
            "https://news.example.com/u/a?b=1&c=2",
            "https://news.example.com/w",
        )
    )
    assert "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;你好" in html
    assert 'href="https://news.example.com/u/a?b=1&amp;c=2"' in html
    assert '<b>Tom & "Jerry"</b>你好' in text
    assert "https://news.example.com/u/a?b=1&c=2" in text
    assert "@@nl." not in html and "@@nl." not in text


def test_an_empty_first_name_gets_the_languages_fallback(settings) -> None:
    issue = render_issue(read_article(SAMPLE_ARTICLE), settings)
    html, text = issue.personalize(
        RecipientFields("  ", "https://x.example.com/u", "https://x.example.com/w")
    )
    assert "讀者你好：" in html and "讀者你好：" in text


def test_an_article_cannot_forge_a_slot_of_its_own_issue(settings, write_article) -> None:
    forged = "@@nl.000000000000.h.unsubscribe_url@@ @@nl.000000000000.t.first_name@@"
    issue = render_issue(read_article(write_article(f"Try {forged} here.")), settings)
    html, text = issue.personalize(
        RecipientFields("Ada", "https://x.example.com/u", "https://x.example.com/w")
    )
    assert forged in html
    assert all(token in text.split() for token in forged.split())  # as typed, never filled


def test_a_template_printing_an_unknown_field_is_refused() -> None:
    slots = Slots("abc")
    with pytest.raises(TemplateError, match="unknown recipient field"):
        SlotTemplate.compile(f"x {slots.token('h', 'email')} y", slots, "h")


def test_filling_is_a_join_of_fixed_chunks() -> None:
    slots = Slots("abc")
    template = SlotTemplate.compile(
        f"A{slots.token('t', 'first_name')}B{slots.token('t', 'web_url')}C{slots.token('t', 'first_name')}",
        slots,
        "t",
    )
    assert template.chunks == ("A", "B", "C", "")
    assert template.fill({"first_name": "x", "web_url": "y", "unsubscribe_url": "z"}) == "AxByCx"
