"""An issue is fixed at its first send: edits to the file change nothing until the editor says so."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from newsletter.audience.models import Filters, Status
from newsletter.audience.store import Store
from newsletter.db.engine import migrate
from newsletter.delivery.campaign import deliver
from newsletter.delivery.issues import Issues
from newsletter.delivery.journal import Journal
from newsletter.delivery.states import RowState
from newsletter.web.site import sent_issues, web_version
from tests.cli.test_compose import assert_one_line_error
from tests.conftest import SAMPLE_ARTICLE, project_store, run_cli, smtp_env
from tests.delivery.helpers import repo_settings
from tests.fakes import smtp as fake_smtp

SLUG = "2025-09-04-ai-blockchain-healthcare"
MARK = "EDITED-AFTER-SENDING"


@pytest.fixture
def article(listed: Path) -> Path:
    """A copy of the sample article the editor may change."""
    path = listed / "articles" / "issue.md"
    path.parent.mkdir()
    shutil.copy(SAMPLE_ARTICLE, path)
    return path


def texts(server: fake_smtp.Recorder) -> dict[str, str]:
    """Each recipient's plain-text part, decoded."""
    out = {}
    for _, rcpt, data in server.messages:
        message = email.message_from_bytes(data, policy=email.policy.default)
        out[rcpt[0]] = message.get_body(("plain",)).get_content()
    return out


def pause_after_five(listed: Path, server: fake_smtp.Recorder) -> None:
    """A real send that stops (a login error) after five of the thirteen readers: the sixth
    of the original edition (a batch sends the original's readers first)."""
    store = project_store(listed)
    readers = store.find(Filters(status=Status.SUBSCRIBED))
    sixth = [r for r in readers if r.lang != "zh-Hans"][5].email
    store.close()
    server.refuse_rcpt = {sixth: "530 5.7.0 authentication required"}


def test_a_retry_after_the_slug_was_edited_resends_only_the_failed_reader(
    listed: Path, article: Path
) -> None:
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        server.refuse_rcpt = {"lin.yating@example.net": "554 5.7.1 message refused"}
        assert run_cli("send", str(article), "--yes", cwd=listed, env=env).returncode == 0
        article.write_text(
            article.read_text("utf-8").replace(f"slug: {SLUG}", "slug: renamed-issue"), "utf-8"
        )
        server.refuse_rcpt = {}
        retried = run_cli("campaigns", "retry", SLUG, "--failed", "--yes", cwd=listed, env=env)
        assert retried.returncode == 0, retried.stderr
        again = run_cli("send", str(article), "--yes", cwd=listed, env=env)
        assert again.returncode == 0 and "(continuing)" in again.stdout, again.stderr
        assert "changed since issue" in again.stdout
    delivered = Counter(rcpt[0] for _, rcpt, _ in server.messages)
    assert len(delivered) == 13 and set(delivered.values()) == {1}
    (campaign,) = json.loads(run_cli("campaigns", "list", "--json", cwd=listed).stdout)
    assert campaign["counts"]["sent"] == 13 and campaign["counts"]["failed"] == 0


def test_an_article_edited_mid_campaign_changes_nothing_the_rest_receive(
    listed: Path, article: Path
) -> None:
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        pause_after_five(listed, server)
        paused = run_cli("send", str(article), "--yes", cwd=listed, env=env)
        assert paused.returncode == 1 and len(server.messages) == 5
        article.write_text(article.read_text("utf-8") + f"\n{MARK}\n", "utf-8")
        server.refuse_rcpt = {}
        resumed = run_cli("send", str(article), "--yes", cwd=listed, env=env)
        assert resumed.returncode == 0, resumed.stderr
        assert "changed since issue" in resumed.stdout and "--update-content" in resumed.stdout
    received = texts(server)
    assert len(received) == 13 and not any(MARK in body for body in received.values())
    shown = json.loads(run_cli("campaigns", "show", SLUG, "--json", cwd=listed).stdout)
    assert shown["article_changed"] is True
    store = project_store(listed)
    try:
        (archived,) = sent_issues(store)
        page = web_version(store, archived, repo_settings())
    finally:
        store.close()
    assert MARK not in page and "叁壹智能新聞" in page


def test_update_content_sends_the_file_to_readers_who_have_not_had_the_issue(
    listed: Path, article: Path
) -> None:
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        pause_after_five(listed, server)
        run_cli("send", str(article), "--yes", cwd=listed, env=env)
        first = set(texts(server))
        article.write_text(article.read_text("utf-8") + f"\n{MARK}\n", "utf-8")
        server.refuse_rcpt = {}
        updated = run_cli("send", str(article), "--update-content", "--yes", cwd=listed, env=env)
        assert updated.returncode == 0, updated.stderr
    received = texts(server)
    assert len(received) == 13
    assert {who for who, body in received.items() if MARK in body} == set(received) - first


def test_a_new_issue_in_a_reused_file_needs_new_issue_and_its_own_slug(
    listed: Path, article: Path
) -> None:
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        assert run_cli("send", str(article), "--yes", cwd=listed, env=env).returncode == 0
        article.write_text(
            article.read_text("utf-8").replace("date: 2025-09-04", "date: 2025-09-11"), "utf-8"
        )
        same = run_cli("send", str(article), "--yes", cwd=listed, env=env)
        assert same.returncode == 0 and "changed since issue" in same.stdout
        assert len(server.messages) == 13
        clash = run_cli("send", str(article), "--new-issue", "--yes", cwd=listed, env=env)
        assert clash.returncode == 1 and "its own 'slug:'" in clash.stderr
        article.write_text(
            article.read_text("utf-8").replace(f"slug: {SLUG}", "slug: 2025-09-11-next"), "utf-8"
        )
        fresh = run_cli("send", str(article), "--new-issue", "--yes", cwd=listed, env=env)
        assert fresh.returncode == 0, fresh.stderr
    assert len(server.messages) == 26
    campaigns = json.loads(run_cli("campaigns", "list", "--json", cwd=listed).stdout)
    assert len({c["issue"] for c in campaigns}) == 2


def test_another_file_with_a_sent_issues_slug_but_other_text_is_refused(
    listed: Path, article: Path
) -> None:
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        assert run_cli("send", str(article), "--yes", cwd=listed, env=env).returncode == 0
        other = listed / "next-week.md"
        other.write_text(
            article.read_text("utf-8").replace("date: 2025-09-04", "date: 2025-09-11"), "utf-8"
        )
        refused = run_cli("send", str(other), "--yes", cwd=listed, env=env)
        assert_one_line_error(
            refused, "next-week.md", f"the slug '{SLUG}' belongs to issue", "its own 'slug:'"
        )
        copy = listed / "copy.md"
        copy.write_text(article.read_text("utf-8"), "utf-8")  # the same text from elsewhere
        same = run_cli("send", str(copy), "--yes", cwd=listed, env=env)
        assert same.returncode == 0 and "(continuing)" in same.stdout, same.stderr
    assert len(server.messages) == 13


def test_a_journal_from_before_issues_keeps_working(tmp_path: Path) -> None:
    """A v5 database: two campaigns of one article (one reader mailed by both, the old bug)."""
    url = f"sqlite:///{tmp_path / 'subscribers.db'}"
    engine = create_engine(url)
    migrate(engine, upto=5)
    moment = "2025-09-04T00:00:00.000000+00:00"
    with engine.begin() as conn:
        for n in (1, 2, 3):
            conn.execute(
                text(
                    "INSERT INTO subscribers (id, email, email_key, status, created_at, "
                    "status_changed_at, attributes) VALUES (:id, :email, :email, 'subscribed', "
                    ":at, :at, '{}')"
                ),
                {"id": n, "email": f"reader{n}@example.org", "at": moment},
            )
        for campaign, filters in ((SLUG, "{}"), (f"{SLUG}--lang-en", '{"lang": "en"}')):
            conn.execute(
                text(
                    "INSERT INTO campaigns (id, slug, article, subject, article_sha, filters, "
                    "provider, status, created_at, updated_at) VALUES (:id, :slug, :article, "
                    "'An issue', 'x', :filters, 'smtp', 'paused', :at, :at)"
                ),
                {
                    "id": campaign,
                    "slug": SLUG,
                    "article": str(SAMPLE_ARTICLE),
                    "filters": filters,
                    "at": moment,
                },
            )
        for campaign, subscriber, state in (
            (SLUG, 1, "sent"),
            (SLUG, 2, "failed"),
            (SLUG, 3, "pending"),
            (f"{SLUG}--lang-en", 1, "sent"),
        ):
            conn.execute(
                text(
                    "INSERT INTO campaign_recipients (campaign_id, subscriber_id, state, attempts, "
                    "updated_at) VALUES (:c, :s, :state, 1, :at)"
                ),
                {"c": campaign, "s": subscriber, "state": state, "at": moment},
            )
    engine.dispose()
    store = Store.open(url)
    try:
        (issue,) = Issues(store).all()
        assert issue.slug == SLUG and not issue.has_snapshot
        journal = Journal(store)
        assert {c.issue_id for c in journal.campaigns()} == {issue.id}
        assert journal.campaign(f"{SLUG}--lang-en").label == f"{SLUG} (lang en)"
        with store.read() as conn:
            ledger = dict(
                conn.execute(text("SELECT subscriber_id, campaign_id FROM deliveries")).all()
            )
        assert set(ledger) == {1, 2}
        with fake_smtp.running() as server:
            settings = repo_settings().model_copy(
                update={
                    "smtp_host": "127.0.0.1",
                    "smtp_port": server.port,
                    "smtp_tls": "none",
                    "secret_key": SecretStr("a-real-secret-for-tests"),
                    "environment": "development",
                }
            )
            summary = deliver(store, settings, SLUG)
        assert summary.sent == 1 and [rcpt for _, rcpt, _ in server.messages] == [
            ["reader3@example.org"]
        ]
        assert journal.counts(SLUG)[RowState.FAILED] == 1
        assert Issues(store).get(issue.id).has_snapshot  # taken from the file, once
    finally:
        store.close()
