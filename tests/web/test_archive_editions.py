"""The archive of an issue with editions, as a reader's browser shows it (real headless Chromium)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLE_ARTICLE, import_people, run_cli, smtp_env
from tests.fakes import smtp as fake_smtp

SLUG = "2025-09-04-ai-blockchain-healthcare"
ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "https://news.example.com"


@pytest.fixture
def site(project: Path) -> Path:
    """The static archive after the sample issue went to a list reading both scripts."""
    import_people(project, ["hant@example.com,,zh-HK", "hans@example.org,,zh-CN"])
    with fake_smtp.running() as server:
        sent = run_cli("send", str(SAMPLE_ARTICLE), "--yes", cwd=project, env=smtp_env(server.port))
    assert sent.returncode == 0, sent.stderr
    built = run_cli("archive", "build", cwd=project)
    assert built.returncode == 0, built.stderr
    return project / "site"


def _fonts(page: Any, selector: str) -> dict[str, int]:
    """The fonts Chromium drew the element's text with, and how many glyphs each drew."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return {f["familyName"]: f["glyphCount"] for f in fonts}


def test_each_edition_has_its_own_page_language_alternates_and_glyphs(browser, site: Path) -> None:
    expected = {
        f"{SLUG}/index.html": ("zh-Hant", "叁壹智能新聞", "TC"),
        f"{SLUG}/zh-Hans/index.html": ("zh-Hans", "叁壹智能新闻", "SC"),
    }
    for path, (lang, title, region) in expected.items():
        page = browser.new_page(viewport={"width": 600, "height": 900})
        try:
            page.goto((site / "archive" / path).as_uri())
            assert page.evaluate("document.documentElement.lang") == lang
            alternates = page.evaluate(
                "[...document.querySelectorAll('link[rel=alternate][hreflang]')]"
                ".map(l => [l.hreflang, l.href])"
            )
            assert alternates == [
                ["zh-Hant", f"{BASE}/archive/{SLUG}"],
                ["zh-Hans", f"{BASE}/archive/{SLUG}/zh-Hans"],
                ["x-default", f"{BASE}/archive/{SLUG}"],
            ]
            heading = page.locator("h1").first
            assert heading.inner_text().startswith(title)
            fonts = _fonts(page, "h1")
            cjk = {family: n for family, n in fonts.items() if "CJK" in family}
            assert cjk, f"no CJK font drew the title: {fonts}"  # tofu: no font had the glyphs
            assert all(family.endswith(region) for family in cjk), fonts  # the script's glyphs
            assert sum(fonts.values()) >= len(heading.inner_text().replace(" ", ""))
        finally:
            page.close()


def test_the_index_links_every_edition_and_each_edition_has_a_feed(browser, site: Path) -> None:
    page = browser.new_page()
    try:
        page.goto((site / "archive" / "index.html").as_uri())
        editions = page.evaluate(
            "[...document.querySelectorAll('.editions a')].map(a => [a.hreflang, a.textContent])"
        )
        assert editions == [["zh-Hant", "繁體中文"], ["zh-Hans", "简体中文"]]
        feeds = page.evaluate(
            "[...document.querySelectorAll('link[type=\"application/atom+xml\"]')]"
            ".map(l => l.getAttribute('href'))"
        )
        assert [f.rsplit("/", 1)[-1] for f in feeds] == ["feed.xml", "feed.zh-Hans.xml"]
    finally:
        page.close()
    simplified = ET.fromstring((site / "archive" / "feed.zh-Hans.xml").read_bytes())
    (entry,) = simplified.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text.startswith("叁壹智能新闻：人工智能与区块链")
    assert entry.find(f"{ATOM}link").get("href") == f"{BASE}/archive/{SLUG}/zh-Hans"
    original = ET.fromstring((site / "archive" / "feed.xml").read_bytes())
    assert original.find(f"{ATOM}entry/{ATOM}title").text.startswith("叁壹智能新聞")
