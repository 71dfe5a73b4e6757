"""The finished HTML, parsed with lxml: what inboxes and screen readers rely on is there."""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import lxml.html
import pytest

from newsletter.compose.article import read_article
from newsletter.config import Settings
from newsletter.errors import TemplateError
from newsletter.render import render_issue
from newsletter.render.issue import RecipientFields, RenderedIssue
from tests.conftest import FIXTURES, SAMPLE_ARTICLE

ARTICLES = FIXTURES / "articles"
ALL = [SAMPLE_ARTICLE, ARTICLES / "english.md", ARTICLES / "mixed.md", ARTICLES / "rich.md"]
FIELDS = RecipientFields(
    "Ada", "https://news.example.com/u/TOKEN", "https://news.example.com/archive/x"
)


def render(path: Path, settings) -> RenderedIssue:
    return render_issue(read_article(path), settings)


def tree_of(html: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(html.encode("utf-8"))


@pytest.fixture(params=ALL, ids=lambda p: p.stem)
def issue(request, settings) -> RenderedIssue:
    return render(request.param, settings)


def test_html_starts_with_the_doctype(issue: RenderedIssue) -> None:
    assert issue.html.startswith("<!doctype html>")


def test_lang_and_dir_come_from_the_article(issue: RenderedIssue) -> None:
    tree = tree_of(issue.html)
    assert tree.get("lang") == issue.lang and tree.get("dir") == "ltr"
    wrapper = tree.body[0]
    assert wrapper.get("lang") == issue.lang and wrapper.get("dir") == "ltr"
    assert 'lang="und"' not in issue.html


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_title_is_the_subject_and_the_only_h1_is_the_article_title(path: Path, settings) -> None:
    article = read_article(path)
    tree = tree_of(render_issue(article, settings).html)
    assert tree.findtext(".//title") == article.subject
    assert [h1.text_content() for h1 in tree.iter("h1")] == [article.meta.title]


def test_the_hidden_preheader_is_the_first_thing_in_the_body(issue: RenderedIssue) -> None:
    first = tree_of(issue.html).body[0][0]
    style = first.get("style").replace(" ", "")
    assert first.text_content().startswith(issue.preheader)
    assert "display:none" in style and "mso-hide:all" in style
    assert "color:#ffffff" not in style  # same colour as the page trips HTML_FONT_LOW_CONTRAST


def test_every_layout_table_is_presentation(issue: RenderedIssue) -> None:
    tables = [t for t in tree_of(issue.html).iter("table") if not t.findall(".//th")]
    assert tables and all(t.get("role") == "presentation" for t in tables)
    conditional = re.findall(r"<table(?![^>]*role=\"presentation\")[^>]*>", _mso_only(issue.html))
    assert conditional == []


def _mso_only(html: str) -> str:
    return "".join(re.findall(r"<!--\[if mso \| IE\]>(.*?)<!\[endif\]-->", html, re.S))


def test_every_image_has_alt_and_every_link_and_image_is_https(issue: RenderedIssue) -> None:
    tree = tree_of(issue.personalize(FIELDS)[0])
    for img in tree.iter("img"):
        assert img.get("alt") is not None and img.get("src").startswith("https://")
    for link in tree.iter("a"):
        assert link.get("href") is None or link.get("href").startswith(("https://", "mailto:"))


def test_no_remote_font_and_outlook_and_responsive_rules_survive(issue: RenderedIssue) -> None:
    html = issue.html
    assert "fonts.googleapis.com" not in html and "@import" not in html and "@font-face" not in html
    assert "<!--[if mso" in html and "<![endif]-->" in html
    assert "@media only screen and (min-width:480px)" in html.replace(": ", ":")
    assert re.search(r"\.mj-column-per-100\s*\{\s*width:\s*100% !important", html)
    assert "prefers-color-scheme: dark" in html
    assert '<meta name="color-scheme" content="light dark">' in html


def test_footer_has_address_unsubscribe_reason_and_web_view(issue: RenderedIssue, settings) -> None:
    html = issue.personalize(FIELDS)[0]
    tree = tree_of(html)
    hrefs = [a.get("href") for a in tree.iter("a")]
    assert FIELDS.unsubscribe_url in hrefs and FIELDS.web_url in hrefs
    text = tree.text_content()
    assert settings.postal_address in text
    assert settings.newsletter_name in text
    assert html.index(settings.postal_address.split(", ")[0]) < 102_000  # printed in parts


def test_chinese_uses_a_cjk_font_stack_and_comfortable_body_text(settings) -> None:
    html = render(SAMPLE_ARTICLE, settings).html
    tree = tree_of(html)
    paragraph = tree.xpath("//h2/following-sibling::p")[0]
    body_div = paragraph.getparent()
    style = body_div.get("style")
    assert "'PingFang TC', 'Microsoft JhengHei'" in style and "'Noto Sans TC'" in style
    assert style.rstrip(";").split("font-family:")[1].split(";")[0].strip().endswith("sans-serif")
    assert "font-size:16px" in style.replace(" ", "")
    line_height = float(re.search(r"line-height:\s*([\d.]+)", style).group(1))
    assert 1.5 <= line_height <= 2.0
    assert "justify" not in html and "letter-spacing" not in html


def test_chinese_stays_utf8_text_not_numeric_entities(settings) -> None:
    html = render(SAMPLE_ARTICLE, settings).html
    assert "醫療數據安全的AI與區塊鏈應用" in html
    assert not re.search(r"&#(x[0-9a-fA-F]{4,}|\d{5,});", html)


def test_english_uses_a_latin_font_stack(settings) -> None:
    html = render(ARTICLES / "english.md", settings).html
    assert (
        "Helvetica, Arial, sans-serif" in html and "PingFang" not in html.split("<!--[if mso]>")[0]
    )


def test_raw_html_in_an_article_is_sanitized(settings) -> None:
    issue = render(ARTICLES / "rich.md", settings)
    html = issue.html
    for gone in ("<script", "document.cookie", "<iframe", "onclick", "javascript:"):
        assert gone not in html
    assert "Click-jacked paragraph" in html and "<sup>1</sup>" in html


def test_rich_markdown_renders_as_email_html(settings) -> None:
    tree = tree_of(render(ARTICLES / "rich.md", settings).html)
    assert tree.xpath(
        "//img[@alt='A harbour at dusk' and @src='https://images.example.com/hero.jpg']"
    )
    assert tree.xpath("//img[@alt='Chart of results' and @width='552' and not(@height)]")
    assert tree.xpath("//ul/li/ul/li[text()='nested']")
    data_table = tree.xpath("//table[.//th]")[0]
    assert [th.text for th in data_table.iter("th")] == ["Name", "Score"]
    assert "border-collapse:collapse" in data_table.get("style").replace(" ", "")
    assert tree.xpath("//pre/code")[0].text.strip() == 'print("hello")'
    assert tree.xpath("//a[@href='https://example.com/a?x=1&y=2']")


def test_article_text_that_looks_like_jinja_appears_as_written(settings) -> None:
    issue = render(ARTICLES / "rich.md", settings)
    html, text = issue.personalize(FIELDS)
    for part in (html, " ".join(text.split())):  # the text part may wrap it over two lines
        assert "{{ recipient.unsubscribe_url }}" in part and "{% for x in y %}" in part


def test_rendering_never_opens_a_network_connection(settings, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError(f"render tried the network: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    with_logo = Settings(
        **{**settings.model_dump(), "logo_url": "https://cdn.example.com/logo.png"}
    )
    issue = render(ARTICLES / "rich.md", with_logo)
    assert "https://images.example.com/hero.jpg" in issue.html


def test_the_logo_shows_with_its_alt_text(settings) -> None:
    branded = Settings(
        **{
            **settings.model_dump(),
            "logo_url": "https://cdn.example.com/logo.png",
            "logo_alt": "Trilogies",
        }
    )
    tree = tree_of(render(ARTICLES / "english.md", branded).html)
    (logo,) = tree.xpath("//img[@src='https://cdn.example.com/logo.png']")
    assert logo.get("alt") == "Trilogies"
    assert logo.get("width") == "48"  # Outlook sizes images by this attribute, not by CSS


def test_dark_mode_recolours_the_title_and_quotes(settings) -> None:
    html = render(ARTICLES / "rich.md", settings).html
    dark = html[html.index("prefers-color-scheme: dark") :]
    dark = dark[: dark.index("</style>")]
    assert ".card h1" in dark and ".article blockquote" in dark


def test_a_template_that_nests_too_deep_fails_instead_of_losing_the_footer(
    settings: Settings, tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(settings.templates_dir, templates)
    source = (templates / "email.mjml.j2").read_text("utf-8")
    deep = "<mj-raw>" + "<div>" * 300 + "</div>" * 300 + "</mj-raw>"
    masthead = '<mj-section css-class="masthead"'
    (templates / "email.mjml.j2").write_text(source.replace(masthead, deep + masthead, 1), "utf-8")
    changed = Settings(**{**settings.model_dump(), "templates_dir": templates})
    with pytest.raises(TemplateError, match="lost its unsubscribe link"):
        render(SAMPLE_ARTICLE, changed)


def test_ten_thousand_nested_elements_are_refused_with_their_line(
    settings: Settings, write_article
) -> None:
    """They crashed the process in MJML's compiler (exit 139, no message)."""
    from newsletter.errors import ArticleError

    nested = "<div>" * 10_000 + "deep" + "</div>" * 10_000
    path = write_article(f"Hello.\n\n<p>fine</p>\n\n{nested}\n")
    with pytest.raises(ArticleError, match=r"article\.md:11: the raw HTML nests 33 elements"):
        render(path, settings)
