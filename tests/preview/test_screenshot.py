"""`newsletter screenshot`: PNGs at phone and desktop widths, light and dark, by real Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from newsletter.preview.screenshot import draws_cjk
from tests.conftest import SAMPLE_ARTICLE, run_cli


@pytest.mark.usefixtures("browser")
def test_screenshots_are_written_at_both_widths_in_light_and_dark(project: Path) -> None:
    shutil.copy(SAMPLE_ARTICLE, project / "issue.md")
    result = run_cli("screenshot", "issue.md", cwd=project)
    assert result.returncode == 0, result.stderr
    rebuilt = run_cli("build", "issue.md", cwd=project)  # a rebuild keeps the screenshots
    assert rebuilt.returncode == 0, rebuilt.stderr
    folder = project / "build" / "2025-09-04-ai-blockchain-healthcare.screenshots"
    shots = {p.name: _load(p) for p in folder.glob("email-*.png")}
    assert sorted(shots) == [
        "email-375-dark.png",
        "email-375-light.png",
        "email-600-dark.png",
        "email-600-light.png",
    ]
    assert shots["email-375-light.png"].width == 375 * 2
    assert shots["email-600-light.png"].width == 600 * 2
    assert shots["email-375-light.png"].height > 2000, "the whole email, not one screenful"
    # The page's margin beside the card: no text there whatever the article's line breaks.
    light = shots["email-600-light.png"].convert("L").getpixel((10, 300))
    dark = shots["email-600-dark.png"].convert("L").getpixel((10, 300))
    assert light > 200 and dark < 60, (light, dark)
    simplified = {p.name: _load(p) for p in (folder / "zh-Hans").glob("email-*.png")}
    assert sorted(simplified) == sorted(shots)  # the zh-Hans edition, shot the same way
    assert simplified["email-600-light.png"].tobytes() != shots["email-600-light.png"].tobytes()


def test_without_chromium_the_message_says_what_to_install(project: Path) -> None:
    shutil.copy(SAMPLE_ARTICLE, project / "issue.md")
    result = run_cli(
        "screenshot", "issue.md", cwd=project, env={"NEWSLETTER_CHROMIUM_PATH": "/nowhere/chromium"}
    )
    assert result.returncode == 1
    assert "chromium_path /nowhere/chromium does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_cjk_text_is_drawn_with_a_cjk_font_not_boxes(browser) -> None:
    page = browser.new_page()
    assert draws_cjk(page), "install fonts-noto-cjk: Chinese would render as boxes"
    page.close()


def _load(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image.copy()


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8000/logo.png", True),
        ("http://localhost/x.png", True),
        ("http://[::1]/x.png", True),
        ("data:image/png;base64,AAAA", True),
        ("https://example.com/hero.png", False),
        ("http://[::ffff:8.8.8.8]/x.png", False),
        ("http://127.0.0.1.example.com/x.png", False),
    ],
)
def test_screenshots_fetch_nothing_beyond_this_machine(url: str, allowed: bool) -> None:
    from newsletter.preview.screenshot import _loopback_only

    class Route:
        outcome = ""

        def continue_(self) -> None:
            self.outcome = "continued"

        def abort(self) -> None:
            self.outcome = "aborted"

    class Request:
        def __init__(self, url: str) -> None:
            self.url = url

    route = Route()
    _loopback_only(route, Request(url))
    assert route.outcome == ("continued" if allowed else "aborted")
