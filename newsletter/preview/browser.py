"""Headless Chromium for screenshots (and the tests), started so it touches no network.

Playwright drives Debian's own chromium; nothing is downloaded. The flags keep Chromium
from phoning home (this machine's network is closed, and a reader's render must not leak).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.errors import NewsletterError

if TYPE_CHECKING:
    from playwright.sync_api import Browser

__all__ = ["CHROMIUM_ARGS", "find_chromium", "launch"]

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium(configured: Path | None = None) -> Path:
    """The Chromium binary, or a one-line error naming the package to install."""
    if configured is not None:
        if not configured.is_file():
            raise NewsletterError(
                f"chromium_path {configured} does not exist; fix it or unset NEWSLETTER_CHROMIUM_PATH"
            )
        return configured
    for name in _NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise NewsletterError(
        "Chromium is not installed: apt-get install chromium fonts-noto-cjk "
        "(or set NEWSLETTER_CHROMIUM_PATH to a Chrome or Chromium binary)"
    )


@contextmanager
def launch(configured: Path | None = None) -> Iterator[Browser]:
    """A headless Chromium with a throwaway profile, closed on exit."""
    executable = find_chromium(configured)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise NewsletterError(
            "screenshots need Playwright: pip install 'newsletter[screenshot]'"
        ) from None
    with sync_playwright() as p:
        # Playwright gives each launch a fresh temporary profile of its own.
        browser = p.chromium.launch(
            executable_path=str(executable), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            browser.close()
