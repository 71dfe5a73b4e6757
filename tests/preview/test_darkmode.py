"""Dark mode as the preview shows it: the email's own dark rules, or a client's recolouring."""

from __future__ import annotations

import re

from newsletter.preview.darkmode import forced_dark, own_dark

EMAIL = """<html><head><style>
p { color: #1f2328; }
@media (prefers-color-scheme: dark) { .card td { background-color: #161b22 !important; } }
@media (prefers-color-scheme: light) { .logo { display: block; } }
@media (max-width: 480px) { .col { width: 100% !important; } }
</style></head><body style="background-color:#f4f5f7">
<table bgcolor="#ffffff"><tr><td style="color:#1f2328;background:#ffffff">text</td>
<td style="color:#e6edf3;background-color:#0d1117">already dark</td></tr></table>
</body></html>"""


def test_own_dark_applies_the_dark_rules_and_drops_the_light_only_ones() -> None:
    html = own_dark(EMAIL)
    assert ".card td { background-color: #161b22 !important; }" in html
    assert "prefers-color-scheme" not in html
    assert ".logo" not in html
    assert "@media (max-width: 480px)" in html


def test_forced_dark_turns_light_backgrounds_dark_and_dark_text_light() -> None:
    html = forced_dark(EMAIL)
    assert "#ffffff" not in html and "#f4f5f7" not in html
    text = re.search(r'<td style="color:(#\w+);background:(#\w+)">text', html)
    assert text is not None
    foreground, background = text.groups()
    assert int(foreground[1:3], 16) > 0xC0 and int(background[1:3], 16) < 0x30


def test_forced_dark_ignores_the_emails_own_dark_rules_and_keeps_dark_parts() -> None:
    html = forced_dark(EMAIL)
    assert "#161b22" not in html
    assert "color:#e6edf3;background-color:#0d1117" in html
