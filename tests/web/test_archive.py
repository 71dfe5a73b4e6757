"""The web archive: "view in browser" for every sent issue, an index, a feed, static files."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import REPO, SAMPLE_ARTICLE, run_cli, smtp_env
from tests.fakes import smtp as fake_smtp

SLUG = "2025-09-04-ai-blockchain-healthcare"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def sent(project: Path) -> Path:
    """The project after a real send of the sample issue to the sample list over SMTP."""
    imported = run_cli(
        "subscribers", "import", str(REPO / "subscribers" / "sample.csv"), cwd=project
    )
    assert imported.returncode == 0, imported.stderr
    with fake_smtp.running() as server:
        result = run_cli(
            "send", str(SAMPLE_ARTICLE), "--yes", cwd=project, env=smtp_env(server.port)
        )
    assert result.returncode == 0, result.stderr
    return project


def database(project: Path) -> str:
    return f"sqlite:///{project / 'subscribers' / 'subscribers.db'}"


def test_the_web_version_is_the_issue_with_neutral_personal_fields(serve, sent: Path) -> None:
    served = serve(database_url=database(sent))
    page = served.client.get(f"/archive/{SLUG}")
    assert page.status_code == 200
    assert "讀者你好" in page.text, "the greeting's neutral fallback, never a reader's name"
    for reader in served.store.find():
        assert reader.email not in page.text
        if reader.name:
            assert reader.name not in page.text
    assert "/u/" not in page.text and f"{served.settings.base_url}/unsubscribe" in page.text
    assert "style-src 'unsafe-inline'" in page.headers["content-security-policy"]
    assert served.client.get(f"/archive/{SLUG}/").text == page.text


def test_the_index_and_the_feed_list_sent_issues_only(serve, sent: Path) -> None:
    served = serve(database_url=database(sent))
    index = served.client.get("/archive/")
    assert f'href="/archive/{SLUG}"' in index.text and "叁壹智能新聞" in index.text
    feed = served.client.get("/archive/feed.xml")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    (entry,) = root.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}id").text == f"{served.settings.base_url}/archive/{SLUG}"
    assert entry.find(f"{ATOM}summary").text.startswith("AI與區塊鏈")
    assert served.client.get("/archive/never-sent").status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        'UPDATE campaigns SET filters = \'{"tag": "members", "lang": null}\'',
        "UPDATE campaigns SET send_at = '2999-01-01T00:00:00.000000+00:00'",
    ],
    ids=["segment", "scheduled"],
)
def test_segments_and_sends_not_yet_delivered_stay_private(serve, sent: Path, change: str) -> None:
    served = serve(database_url=database(sent))
    with served.store.write() as conn:
        conn.execute(text(change))
    assert served.client.get(f"/archive/{SLUG}").status_code == 404
    assert SLUG not in served.client.get("/archive/feed.xml").text


def test_nothing_is_archived_before_it_is_sent(served) -> None:
    assert "No issues yet." in served.client.get("/archive/").text
    assert served.client.get(f"/archive/{SLUG}").status_code == 404


def test_archive_build_writes_the_same_pages_as_static_files(serve, sent: Path) -> None:
    result = run_cli("archive", "build", cwd=sent)
    assert result.returncode == 0, result.stderr
    site = sent / "site"
    assert sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file()) == [
        ".newsletter-output",
        f"archive/{SLUG}/index.html",
        f"archive/{SLUG}/zh-Hans/index.html",
        "archive/feed.xml",
        "archive/feed.zh-Hans.xml",
        "archive/index.html",
        "static/site.css",
        "unsubscribe/index.html",
    ]
    served = serve(database_url=database(sent))
    for path in (SLUG, f"{SLUG}/zh-Hans"):
        live = served.client.get(f"/archive/{path}").text
        assert (site / "archive" / path / "index.html").read_text("utf-8") == live
    assert (site / "archive" / "feed.zh-Hans.xml").read_bytes() == served.client.get(
        "/archive/feed.zh-Hans.xml"
    ).content


def test_archive_build_never_replaces_a_folder_it_did_not_make(sent: Path) -> None:
    """`--out "$PWD"` once deleted the whole project; `--out articles` the articles."""
    (sent / "articles").mkdir()
    (sent / "articles" / "next.md").write_text("mine", "utf-8")
    for out in (str(sent), ".", "articles", "templates"):
        result = run_cli("archive", "build", "--out", out, cwd=sent)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert (sent / "newsletter.toml").is_file() and (sent / "templates" / "email.mjml.j2").is_file()
    assert (sent / "articles" / "next.md").read_text("utf-8") == "mine"
    assert (sent / "subscribers" / "subscribers.db").is_file()
    first = run_cli("archive", "build", "--out", "public", cwd=sent)
    again = run_cli("archive", "build", "--out", "public", cwd=sent)
    assert first.returncode == again.returncode == 0, again.stderr
