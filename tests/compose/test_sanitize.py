"""Raw HTML in an article is cut down to what is safe in an email."""

from __future__ import annotations

import pytest

from newsletter.compose.sanitize import sanitize_html


@pytest.mark.parametrize(
    ("dangerous", "gone"),
    [
        ("<script>alert('x')</script>", "alert"),
        ('<img src="https://example.com/a.png" alt="a" onerror="steal()">', "onerror"),
        ('<a href="javascript:alert(1)">go</a>', "javascript:"),
        ('<form action="https://example.com/f"><input name="q"></form>', "<form"),
        ('<iframe src="https://example.com/embed"></iframe>', "<iframe"),
        ('<object data="https://example.com/x.swf"></object>', "<object"),
        ("<style>body{display:none}</style>", "display:none"),
        ('<p style="position:fixed;color:red">x</p>', "position"),
        ('<div class="hidden-trick">x</div>', "hidden-trick"),
    ],
)
def test_dangerous_html_is_removed(dangerous: str, gone: str) -> None:
    assert gone not in sanitize_html(dangerous)


def test_ordinary_formatting_survives() -> None:
    html = (
        '<p>H<sub>2</sub>O, <a href="https://example.com">link</a>, <div class="note">n</div></p>'
    )
    cleaned = sanitize_html(html)
    for kept in ("<sub>2</sub>", 'href="https://example.com"', 'class="note"'):
        assert kept in cleaned
