"""`newsletter screenshot`: each edition as PNGs, at phone and desktop widths, light and dark.

Dark is the email's own prefers-color-scheme rules, as Apple Mail shows them. Requests
leave the page only for loopback: remote images show as broken, never fetched.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from newsletter.atomic import write_file
from newsletter.preview.browser import launch

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Request, Route

__all__ = ["WIDTHS", "Screenshots", "draws_cjk", "take_screenshots"]

WIDTHS = (375, 600)
SCHEMES = ("light", "dark")
_GLYPHS_DIFFER = """() => {
  const pixels = (text) => {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 40;
    const context = canvas.getContext("2d");
    context.font = "32px sans-serif";
    context.fillText(text, 2, 34);
    return Array.from(context.getImageData(0, 0, 40, 40).data).join();
  };
  return pixels("醫") !== pixels("一");
}"""


@dataclass(frozen=True)
class Screenshots:
    paths: list[Path]
    cjk_font: bool
    """False when Chromium drew Chinese as boxes: every glyph came out the same."""


def take_screenshots(
    editions: Mapping[str, str], out_dir: Path, chromium: Path | None = None
) -> Screenshots:
    """email-<width>-<scheme>.png for each width and scheme; full-page, 2x for sharp text.

    ``editions`` maps a subfolder to the HTML shot into it: "" for the original, "zh-Hans"
    for that edition (one browser for all).
    """
    written = []
    with launch(chromium) as browser:
        probe = browser.new_page()
        cjk_font = draws_cjk(probe)
        probe.close()
        for folder, html in editions.items():
            for width in WIDTHS:
                for scheme in SCHEMES:
                    path = out_dir / folder / f"email-{width}-{scheme}.png"
                    write_file(path, _shot(browser, html, width, scheme))
                    written.append(path)
    return Screenshots(written, cjk_font)


def _shot(browser: Browser, html: str, width: int, scheme: str) -> bytes:
    page = browser.new_page(
        viewport={"width": width, "height": 800},
        device_scale_factor=2,
        color_scheme=scheme,  # type: ignore[arg-type]
    )
    try:
        page.route("**/*", _loopback_only)
        page.set_content(html, wait_until="load")
        return page.screenshot(full_page=True)
    finally:
        page.close()


def draws_cjk(page: Page) -> bool:
    """Whether the browser has a CJK font: without one, every character is the same box."""
    return bool(page.evaluate(_GLYPHS_DIFFER))


def _loopback_only(route: Route, request: Request) -> None:
    """Let data: URLs and requests to this machine through; abort everything else."""
    if request.url.startswith(("data:", "about:")) or _is_loopback(urlsplit(request.url).hostname):
        route.continue_()
    else:
        route.abort()


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
