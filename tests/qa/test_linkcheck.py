"""`--check-links` asks each link once, over loopback only in tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from newsletter.qa.build import check
from newsletter.qa.linkcheck import check_links


class _Site(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        """Quiet."""

    def do_HEAD(self) -> None:
        self._answer(405 if self.path == "/no-head" else None)

    def do_GET(self) -> None:
        self._answer(None)

    def _answer(self, forced: int | None) -> None:
        status = forced or (404 if self.path == "/missing" else 200)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_broken_and_unreachable_links_are_found_and_good_ones_pass(site: str) -> None:
    findings = check_links(
        [
            f"{site}/ok",
            f"{site}/missing",
            f"{site}/no-head",
            f"{site}/ok",
            "mailto:a@example.com",
            "http://127.0.0.1:9/",
        ],
        timeout=2,
    )
    by_url = {f.where: f for f in findings}
    assert set(by_url) == {"http://127.0.0.1:9/", f"{site}/missing"}
    assert by_url["http://127.0.0.1:9/"].code == "link-unreachable"
    broken = by_url[f"{site}/missing"]
    assert (broken.code, broken.severity) == ("link-broken", "error") and "404" in broken.message


def test_check_links_leaves_the_per_recipient_links_alone(
    settings, write_article, site: str
) -> None:
    article = write_article(
        f"Read [the report]({site}/missing) and [the data]({site}/ok).",
        preheader="This week in brief",
    )
    report = check(article, settings, links=True).report
    broken = [f.where for f in report.findings if f.code in ("link-broken", "link-unreachable")]
    assert broken == [f"{site}/missing"]  # news.example.com/u/... and /archive/... were not asked
