"""`newsletter preview` as an editor uses it: the real command, driven in headless Chromium."""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import SAMPLE_ARTICLE, run_cli
from tests.fakes import smtp as fake_smtp

ARTICLE = "articles/issue.md"


@contextmanager
def running_preview(
    project: Path, env: dict[str, str] | None = None, *options: str
) -> Iterator[str]:
    """Start `newsletter preview` in a subprocess and yield its URL; Ctrl-C it afterwards."""
    (project / "articles").mkdir(exist_ok=True)
    shutil.copy(SAMPLE_ARTICLE, project / ARTICLE)
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsletter",
            "preview",
            ARTICLE,
            "--no-open",
            "--no-spam",
            *options,
        ],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    ) as process:
        try:
            assert process.stdout is not None and process.stderr is not None
            line = process.stdout.readline()
            found = re.search(r"http://127\.0\.0\.1:\d+/", line)
            assert found, f"no URL in {line!r}; stderr: {process.stderr.read()}"
            yield found.group()
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                raise


@pytest.fixture
def page(browser, project: Path):
    with running_preview(project) as url:
        tab = browser.new_page(viewport={"width": 1400, "height": 900})
        tab.goto(url)
        tab.wait_for_function("document.getElementById('frame-phone').contentDocument.body")
        yield tab
        tab.close()


def frame(page, name: str):
    return page.frame_locator(f"#frame-{name}").locator("body")


def test_the_phone_frame_is_375_or_320_wide_and_the_desktop_shows_the_600px_email(page) -> None:
    width = "document.documentElement.clientWidth"
    assert frame(page, "phone").evaluate(f"() => {width}") == 375
    page.click("#width-320")
    page.wait_for_function(
        "document.getElementById('frame-phone').contentDocument.documentElement.clientWidth == 320"
    )
    column = frame(page, "desktop").evaluate(
        "() => document.querySelector('div[style*=\"max-width:600px\"]').getBoundingClientRect().width"
    )
    assert column == 600
    assert frame(page, "desktop").evaluate(f"() => {width}") > 600


def test_the_frames_can_be_shown_side_by_side_or_one_at_a_time(page) -> None:
    assert page.is_visible("#frame-phone") and page.is_visible("#frame-desktop")
    page.click("#layout-phone")
    assert page.is_visible("#frame-phone") and not page.is_visible("#frame-desktop")
    page.click("#layout-desktop")
    assert page.is_visible("#frame-desktop") and not page.is_visible("#frame-phone")
    page.reload()
    assert not page.is_visible("#frame-phone"), "the choice survives a reload"


def test_dark_mode_shows_the_emails_own_dark_styles_or_the_clients_recolouring(page) -> None:
    background = "() => getComputedStyle(document.querySelector('.card')).backgroundColor"
    assert frame(page, "phone").evaluate(background) == "rgb(255, 255, 255)"
    page.click("#scheme-dark")
    page.wait_for_function("document.getElementById('frame-phone').src.includes('scheme=dark')")
    page.wait_for_load_state()
    assert frame(page, "phone").evaluate(background) == "rgb(22, 27, 34)"  # the template's own
    page.click("#scheme-forced")
    page.wait_for_function(  # the recoloured document, not the one still unloading
        """() => {
          const doc = document.getElementById('frame-phone').contentDocument;
          const card = doc?.querySelector('.card');
          return doc?.URL.includes('scheme=forced') && card
            && doc.defaultView.getComputedStyle(card).backgroundColor !== 'rgb(22, 27, 34)';
        }"""
    )
    forced = frame(page, "phone").evaluate(background)
    assert forced not in ("rgb(255, 255, 255)", "rgb(22, 27, 34)")
    red = int(re.findall(r"\d+", forced)[0])
    assert red < 40, f"forced dark background {forced} is not dark"


def test_the_inbox_row_shows_sender_subject_and_preheader(page) -> None:
    row = page.inner_text("#inbox-desktop")
    assert "Trilogies Weekly" in row
    assert "叁壹智能新聞" in row
    assert "AI與區塊鏈如何守護醫療數據" in row


def test_tabs_show_the_plain_text_the_html_source_and_the_headers(page) -> None:
    assert not page.is_visible("#panel-text")
    page.click("#tab-text")
    assert page.is_visible("#panel-text") and not page.is_visible("#panel-email")
    assert "叁壹智能新聞" in page.inner_text("#panel-text")
    page.click("#tab-source")
    assert "<!doctype html>" in page.inner_text("#panel-source").lower()
    page.click("#tab-headers")
    headers = page.inner_text("#panel-headers")
    assert "List-Unsubscribe-Post" in headers and "List-Unsubscribe=One-Click" in headers
    page.click("#tab-email")
    assert page.is_visible("#frame-phone")


def test_the_qa_report_lists_each_finding_with_where_and_how_to_fix(page) -> None:
    row = page.locator("#report tr", has_text="example-secret")
    assert "newsletter.toml" in row.inner_text()
    assert "NEWSLETTER_SECRET_KEY" in row.inner_text()


def test_saving_the_article_refreshes_the_open_page(browser, project: Path) -> None:
    with running_preview(project) as url:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("#live:has-text('live')")
        article = project / ARTICLE
        started = time.monotonic()
        article.write_text(
            article.read_text("utf-8").replace("叁壹智能新聞", "改好了的標題", 1), "utf-8"
        )
        page.wait_for_selector("#inbox-desktop:has-text('改好了的標題')", timeout=5000)
        elapsed = time.monotonic() - started
        assert "改好了的標題" in frame(page, "phone").inner_text()
        page.close()
    print(f"save to refreshed page: {elapsed:.2f} s")


def test_a_broken_template_shows_file_and_line_and_the_page_recovers(
    browser, project: Path
) -> None:
    template = project / "templates" / "email.mjml.j2"
    good = template.read_text("utf-8")
    with running_preview(project) as url:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("#live:has-text('live')")
        template.write_text(good.replace("</mj-body>", "{{ broken(</mj-body>", 1), "utf-8")
        error = page.wait_for_selector("#render-error", timeout=5000).inner_text()
        assert re.search(r"email\.mjml\.j2:\d+", error), error
        assert page.is_visible("#frame-phone"), "the last good render stays on screen"
        template.write_text(good, "utf-8")
        page.wait_for_selector("#render-error", state="detached", timeout=5000)
        page.close()


def test_send_test_goes_through_the_configured_provider(browser, project: Path) -> None:
    with fake_smtp.running() as server:
        env = {
            "NEWSLETTER_PROVIDER": "smtp",
            "NEWSLETTER_SMTP_HOST": "127.0.0.1",
            "NEWSLETTER_SMTP_PORT": str(server.port),
            "NEWSLETTER_SMTP_TLS": "none",
        }
        with running_preview(project, env) as url:
            page = browser.new_page()
            page.goto(url)
            page.fill("#addresses", "editor@example.com, second@example.org")
            page.click("#send-test button")
            page.wait_for_selector("#send-results li.ok >> nth=3")
            results = page.inner_text("#send-results")
            assert "smtp" in results and "[zh-Hans]" in results and "[zh-Hant]" in results
            page.close()
    assert sorted(rcpt[0] for _, rcpt, _ in server.messages) == [
        "editor@example.com",
        "editor@example.com",
        "second@example.org",
        "second@example.org",
    ]  # each address gets every edition
    message = email.message_from_bytes(server.messages[0][2], policy=email.policy.default)
    assert message["Subject"].startswith("[TEST] ")


def test_without_a_provider_the_test_send_is_a_dry_run_into_the_outbox(
    browser, project: Path
) -> None:
    with running_preview(project) as url:
        page = browser.new_page()
        page.goto(url)
        page.fill("#addresses", "not an address")
        page.click("#send-test button")
        assert "not valid" in page.wait_for_selector("#send-results li.failed").inner_text()
        page.fill("#addresses", "editor@example.com")
        page.click("#send-test button")
        assert "dry run" in page.wait_for_selector("#send-results li.ok").inner_text()
        page.close()
    assert list((project / "outbox").glob("test-*/*.eml"))


def test_with_no_spam_the_report_says_scoring_is_off(page) -> None:
    assert "spam score: off" in page.inner_text("#report-summary")


def test_other_sites_cannot_use_the_preview(project: Path) -> None:
    with running_preview(project, None, "--allow-host", "preview.example.net") as url:
        assert httpx.get(url, headers={"Host": "preview.example.net"}).status_code == 200
        page = httpx.get(url)
        assert page.status_code == 200
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        assert httpx.get(url, headers={"Host": "attacker.example.com"}).status_code == 400
        forged = httpx.post(url + "send-test", data={"addresses": "x@example.com"})
        assert forged.status_code == 403
    assert not (project / "outbox").exists()


def test_a_missing_article_is_one_line_and_exit_1(project: Path) -> None:
    result = run_cli("preview", "nowhere.md", "--no-open", cwd=project)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: nowhere.md: article not found; check the path"


def test_the_checks_and_the_test_send_are_on_the_first_screen_beside_the_frames(page) -> None:
    """At 1400x900 nothing a marketer needs is 4,000 px down: the frames scroll inside."""
    for selector in ("#report", "#links", "#send-test", "#frame-phone", "#frame-desktop"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["y"] < 900, selector
    frame_box = page.locator("#frame-phone").bounding_box()
    assert frame_box is not None and frame_box["y"] + frame_box["height"] <= 900 + 20
    assert page.evaluate("document.documentElement.scrollHeight") < 1400


def test_the_links_list_shows_each_links_text_and_target(page) -> None:
    listed = page.inner_text("#links")
    assert "在瀏覽器中查看" in listed
    assert "https://blog.example.com/post/ai-blockchain-healthcare-2025" in listed


def test_the_links_list_marks_the_links_click_tracking_will_count(browser, project: Path) -> None:
    with running_preview(project, {"NEWSLETTER_CLICK_TRACKING": "per-reader"}) as url:
        tab = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            tab.goto(url)
            items = tab.locator("#links li").all_inner_texts()
        finally:
            tab.close()
    counted = [item for item in items if "counted (per-reader click tracking)" in item]
    assert len(counted) == 1 and "ai-blockchain-healthcare-2025" in counted[0]
    assert not any("counted" in item for item in items if "在瀏覽器中查看" in item)


def test_the_page_turns_dark_with_a_dark_email(page) -> None:
    ground = "getComputedStyle(document.body).backgroundColor"
    assert page.evaluate(ground) == "rgb(238, 240, 243)"
    page.click("#scheme-dark")
    assert page.evaluate(ground) == "rgb(13, 17, 23)"


def test_images_off_shows_the_email_as_readers_who_block_images_see_it(page) -> None:
    page.click("#images-off")
    page.wait_for_function("document.getElementById('frame-phone').src.includes('images=off')")
    page.wait_for_load_state()
    sources = frame(page, "phone").evaluate(
        "() => [...document.images].map((image) => image.getAttribute('src'))"
    )
    assert all(source == "" for source in sources)


def test_the_html_can_be_downloaded_as_a_file(page) -> None:
    with page.expect_download() as download:
        page.click("#tab-source")
        page.click("#download-html")
    assert download.value.suggested_filename == "2025-09-04-ai-blockchain-healthcare.html"
    assert "<!doctype html>" in Path(download.value.path()).read_text(encoding="utf-8")


def test_zoom_shows_more_of_the_email_at_once(page) -> None:
    full = page.locator("#frame-desktop").bounding_box()
    page.click("#zoom-50")
    half = page.locator("#frame-desktop").bounding_box()
    assert full is not None and half is not None
    assert abs(half["width"] - full["width"] / 2) < 2


def test_the_frames_switch_edition_and_the_editions_show_side_by_side_marked(page) -> None:
    title = "() => document.querySelector('h1').textContent"
    assert frame(page, "desktop").evaluate(title).startswith("叁壹智能新聞")
    page.click("#edition-zh-Hans")
    page.wait_for_function(
        "() => document.getElementById('frame-desktop').contentDocument?.documentElement?.lang"
        " == 'zh-Hans'"
    )
    assert frame(page, "desktop").evaluate(title).startswith("叁壹智能新闻")
    page.wait_for_function(  # the phone frame shows the same edition
        "() => document.getElementById('frame-phone').contentDocument?.documentElement?.lang"
        " == 'zh-Hans'"
    )

    page.click("#tab-editions")
    page.wait_for_function(
        "() => document.getElementById('frame-edition-zh-Hans').contentDocument"
        "?.querySelector('mark')"
    )
    marks = {}
    for lang in ("zh-Hant", "zh-Hans"):
        marks[lang] = page.frame_locator(f"#frame-edition-{lang}").locator("mark.nl-reading")
    assert marks["zh-Hant"].count() == marks["zh-Hans"].count() > 0
    assert "。隨著醫療" in marks["zh-Hant"].all_text_contents()
    assert "。随着医疗" in marks["zh-Hans"].all_text_contents()
    rows = page.locator("#readings tr.to-review")
    assert rows.count() == 3 and "於" in rows.first.inner_text()  # the reviewed ones are not
    assert (
        page.locator("#frame-edition-zh-Hant").bounding_box()["x"]
        < page.locator("#frame-edition-zh-Hans").bounding_box()["x"]
    )
