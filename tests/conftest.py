"""Shared fixtures: the repository's own settings and templates, isolated from the machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from newsletter.config import Settings

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLE_ARTICLE = REPO / "articles" / "2025-09-04-ai-blockchain-healthcare.md"


SLOW_FIXTURES = frozenset({"project", "browser", "serve", "served"})
"""Tests that start the real CLI, a browser or a web server take seconds, not milliseconds."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark them slow, so `pytest -m "not slow"` is the quick loop while editing."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No NEWSLETTER_* variable or .env of the machine leaks into a test."""
    for name in list(os.environ):
        if name.startswith("NEWSLETTER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    values = tomllib.loads((REPO / "newsletter.toml").read_text(encoding="utf-8"))
    return Settings(**values, templates_dir=REPO / "templates", build_dir=tmp_path / "build")


@pytest.fixture
def write_article(tmp_path: Path) -> Callable[..., Path]:
    """Write an article file from front matter lines and a body."""

    def write(body: str, name: str = "article.md", **front: str) -> Path:
        front = {"title": "A test issue", "date": "2025-09-04", "lang": "en", **front}
        lines = "".join(f"{key}: {value}\n" for key, value in front.items())
        path = tmp_path / name
        path.write_text(f"---\n{lines}---\n\n{body}\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A working folder like an editor's: newsletter.toml, templates/ and articles/."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "newsletter.toml").write_text((REPO / "newsletter.toml").read_text("utf-8"), "utf-8")
    shutil.copytree(REPO / "templates", folder / "templates")
    return folder


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `newsletter` command in a subprocess, as an editor would."""
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


SECRET = {
    "NEWSLETTER_SECRET_KEY": "a-real-secret-for-this-test-only",
    "NEWSLETTER_ENVIRONMENT": "development",
}
"""Real sends to the fake servers: a secret that is not the public example, and the
development environment, which lets the shipped example identity (example.com) send."""
SENDGRID_KEY = "SG.test-key-not-real"


def smtp_env(port: int) -> dict[str, str]:
    """Settings for real sends to the aiosmtpd server of tests/fakes/smtp.py on ``port``."""
    return {
        **SECRET,
        "NEWSLETTER_PROVIDER": "smtp",
        "NEWSLETTER_SMTP_HOST": "127.0.0.1",
        "NEWSLETTER_SMTP_PORT": str(port),
        "NEWSLETTER_SMTP_TLS": "none",
    }


def sendgrid_env(url: str) -> dict[str, str]:
    """Settings for real sends to the fake SendGrid of tests/fakes/sendgrid.py at ``url``."""
    return {
        **SECRET,
        "NEWSLETTER_PROVIDER": "sendgrid",
        "NEWSLETTER_SENDGRID_API_KEY": SENDGRID_KEY,
        "NEWSLETTER_SENDGRID_HOST": url,
        "NEWSLETTER_SENDGRID_TIMEOUT": "120",
    }


@pytest.fixture
def listed(project: Path) -> Path:
    """The project with the bundled sample list imported (13 subscribed)."""
    result = run_cli("subscribers", "import", str(REPO / "subscribers" / "sample.csv"), cwd=project)
    assert result.returncode == 0, result.stderr
    return project


def import_people(
    project: Path,
    rows: list[str],
    header: str = "email,name,lang",
    env: dict[str, str] | None = None,
) -> None:
    """Import CSV rows (after ``header``) as subscribed readers, through the real command."""
    people = project / "people.csv"
    people.write_text(header + "\n" + "".join(f"{row}\n" for row in rows), "utf-8")
    result = run_cli(
        "subscribers", "import", str(people), "--consent", "test", cwd=project, env=env
    )
    assert result.returncode == 0, result.stderr


def project_store(project: Path):
    """The project's own subscriber store (subscribers/subscribers.db); close it after use."""
    from newsletter.audience.store import Store

    return Store.open(f"sqlite:///{project / 'subscribers' / 'subscribers.db'}")


POSTGRES = os.environ.get("TEST_POSTGRES_URL")
"""A PostgreSQL server URL (postgresql+psycopg://...): `store` tests also run there.

Named outside the NEWSLETTER_ prefix, so exporting it never trips newsletter's check for
misspelt settings.
"""


@pytest.fixture(params=["sqlite", "postgresql"] if POSTGRES else ["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A real SQLite file in the test's folder, or a fresh PostgreSQL database of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'subscribers.db'}"
        return
    from tests.postgres import fresh_database

    with fresh_database(POSTGRES) as url:
        yield url


@pytest.fixture
def store(database_url: str):
    """The subscriber store on database_url, migrated."""
    from newsletter.audience.store import Store

    opened = Store.open(database_url)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def browser():
    """Real headless Chromium (Debian's), driven by Playwright; CI sets REQUIRE_CHROMIUM=1."""
    if shutil.which("chromium") is None and not os.environ.get("REQUIRE_CHROMIUM"):
        pytest.skip("Chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    from newsletter.preview.browser import launch

    with launch() as chromium:
        yield chromium
