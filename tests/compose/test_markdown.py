"""The article body's Markdown: headings below the title, images that fit Outlook."""

from __future__ import annotations

from newsletter.compose import markdown


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


def test_every_image_shrinks_on_a_phone_and_never_grows_past_the_layout() -> None:
    html = markdown.body_html(
        markdown.parse(
            "![Wide](https://example.com/w.png){width=2000}\n\n"
            '<img src="https://example.com/r.png" alt="raw" width="1600" height="900" style="width:1600px">'
        )
    )
    assert html.count('style="display:block;width:100%;max-width:552px;height:auto;border:0"') == 2
    assert 'width="2000"' not in html and 'width="1600"' not in html and "height=" not in html
    assert html.count('width="552"') == 2


def test_a_raw_h1_in_the_article_becomes_an_h2() -> None:
    assert markdown.body_html(markdown.parse("<h1>Raw heading</h1>")) == "<h2>Raw heading</h2>"


def _html(source: str) -> str:
    return markdown.body_html(markdown.parse(source))


def test_a_raw_image_without_a_width_keeps_its_natural_size_up_to_the_column() -> None:
    html = _html('<img src="https://example.com/icon.png" alt="Icon">')
    assert "max-width:100%" in html
    assert "width:100%" not in html.replace("max-width:100%", "")
    assert 'width="' not in html


def test_every_image_carries_alt_even_when_the_article_gave_none() -> None:
    html = _html('<img src="https://example.com/x.png" width="100">')
    assert 'alt=""' in html


def test_a_link_made_unsafe_reads_as_its_text_not_as_a_link_going_nowhere() -> None:
    html = _html('Please <a href="javascript:steal()">click here</a> now.')
    assert "<a" not in html and "click here" in html


def test_a_number_and_its_percent_sign_stay_on_one_line() -> None:
    assert "0.6\u00a0%" in _html("Error rate fell to 0.6 % this week.")
    assert "25\u00a0％" in _html("增長 25 ％。")
