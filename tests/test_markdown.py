"""The article body's Markdown: headings below the title, images that fit Outlook."""

from __future__ import annotations

from newsletter import markdown


def test_article_headings_start_at_h2_so_the_title_is_the_only_h1() -> None:
    html = markdown.body_html(markdown.parse("# Part one\n\n## Detail\n\ntext"))
    assert "<h2>Part one</h2>" in html and "<h3>Detail</h3>" in html and "<h1>" not in html


def test_images_get_the_content_width_unless_they_set_one() -> None:
    html = markdown.body_html(
        markdown.parse(
            "![Chart](https://example.com/c.png)\n\n![Icon](https://example.com/i.png){width=64}"
        )
    )
    assert 'alt="Chart" width="552"' in html.replace('src="https://example.com/c.png" ', "")
    assert 'width="64"' in html


def test_jinja_syntax_in_an_article_is_just_text() -> None:
    html = markdown.body_html(markdown.parse("Write {{ name }} and {% if x %} literally."))
    assert "{{ name }}" in html and "{% if x %}" in html
