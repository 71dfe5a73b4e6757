"""Every command, given bad paths, folders, unwritable places or bad settings: one line, no traceback.

Each case runs the real `newsletter` process in a project folder and asserts exit code 1 or 2,
no `Traceback` anywhere, and, for exit 1 (our errors), exactly one line on stderr that names
what went wrong. Exit 2 is Typer's own usage error box.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SAMPLE_ARTICLE, SECRET, run_cli

ARTICLE = str(SAMPLE_ARTICLE)


@pytest.fixture
def place(project: Path) -> Path:
    """The project plus a folder of the user's, and a file where a command wants a folder
    (nothing can be created under it, not even by root, unlike a read-only folder)."""
    (project / "folder").mkdir()
    (project / "folder" / "keep.txt").write_text("mine", "utf-8")
    (project / "locked").write_text("a file, not a folder", "utf-8")
    return project


CASES: list[tuple[str, list[str], dict[str, str], str]] = [
    ("config is a folder", ["--config", "folder", "build", ARTICLE], {}, "folder"),
    (
        "NEWSLETTER_CONFIG is a folder",
        ["build", ARTICLE],
        {"NEWSLETTER_CONFIG": "folder"},
        "folder",
    ),
    ("missing config", ["--config", "nowhere.toml", "build", ARTICLE], {}, "nowhere.toml"),
    ("build a folder", ["build", "folder"], {}, "is a folder"),
    ("check a missing file", ["check", "missing.md"], {}, "missing.md"),
    ("new from a folder", ["new", "--from", "folder"], {}, "folder"),
    ("export into a folder", ["subscribers", "export", "folder"], {}, "folder"),
    ("import a folder", ["subscribers", "import", "folder"], {}, "folder"),
    (
        "mysql",
        ["subscribers", "list"],
        {"NEWSLETTER_DATABASE_URL": "mysql://u:p@127.0.0.1/x"},
        "mysql",
    ),
    (
        "uncreatable sqlite folder",
        ["subscribers", "list"],
        {"NEWSLETTER_DATABASE_URL": "sqlite:///locked/sub/subscribers.db"},
        "locked",
    ),
    (
        "unreachable postgresql",
        ["subscribers", "list"],
        {"NEWSLETTER_DATABASE_URL": "postgresql+psycopg://u:p@127.0.0.1:1/x"},
        "database",
    ),
    (
        "postgres:// as hosting services write it",
        ["subscribers", "list"],
        {"NEWSLETTER_DATABASE_URL": "postgres://u:p@127.0.0.1:1/x"},
        "cannot open the subscriber database",
    ),
    ("huge page", ["subscribers", "list", "--page", "99999999999999999999"], {}, ""),
    ("archive into the project", ["archive", "build", "--out", "."], {}, "."),
    ("archive into articles-like folder", ["archive", "build", "--out", "folder"], {}, "folder"),
    (
        "outbox unwritable",
        ["send", ARTICLE, "--dry-run"],
        {"NEWSLETTER_OUTBOX_DIR": "locked/outbox"},
        "locked",
    ),
    (
        "build dir unwritable",
        ["build", ARTICLE],
        {"NEWSLETTER_BUILD_DIR": "locked/build"},
        "locked",
    ),
    ("campaign unknown", ["campaigns", "show", "nothing"], {}, "nothing"),
    ("preview a folder", ["preview", "folder", "--no-open"], {}, "is a folder"),
    ("screenshot a missing file", ["screenshot", "missing.md"], {}, "missing.md"),
    (
        "serve a mysql list",
        ["serve"],
        {"NEWSLETTER_DATABASE_URL": "mysql://u@h/x", "NEWSLETTER_ENVIRONMENT": "development"},
        "mysql",
    ),
    (
        "run-due on an unreachable database",
        ["campaigns", "run-due"],
        {"NEWSLETTER_DATABASE_URL": "postgresql+psycopg://u:p@127.0.0.1:1/x"},
        "database",
    ),
    ("worker on a mysql list", ["worker"], {"NEWSLETTER_DATABASE_URL": "mysql://u@h/x"}, "mysql"),
    ("retry of nothing", ["campaigns", "retry", "nothing", "--failed", "--yes"], {}, "nothing"),
    ("cancel of nothing", ["campaigns", "cancel", "nothing", "--yes"], {}, "nothing"),
    ("new from a missing paste", ["new", "--from", "missing.txt"], {}, "missing.txt"),
    ("show a bad address", ["subscribers", "show", "not-an-address"], {}, "not-an-address"),
    (
        "remove someone unknown",
        ["subscribers", "remove", "nobody@example.com", "--yes"],
        {},
        "nobody@example.com",
    ),
    (
        "unknown provider",
        ["send", ARTICLE, "--provider", "postmark", "--yes"],
        SECRET,
        "postmark",
    ),
    ("bad setting value", ["build", ARTICLE], {"NEWSLETTER_ACCENT_COLOR": "red"}, "accent_color"),
    (
        "unknown setting",
        ["build", ARTICLE],
        {"NEWSLETTER_ACCENT_COLOUR": "#000000"},
        "NEWSLETTER_ACCENT_COLOUR",
    ),
    (
        "archive with an unreachable database",
        ["archive", "build"],
        {"NEWSLETTER_DATABASE_URL": "postgresql+psycopg://u:p@127.0.0.1:1/x"},
        "database",
    ),
    ("bad timezone setting", ["campaigns", "list"], {"NEWSLETTER_TIMEZONE": "America"}, "timezone"),
]


@pytest.mark.parametrize(("what", "args", "env", "named"), CASES, ids=[c[0] for c in CASES])
def test_a_mistake_gets_one_line_and_no_traceback(
    place: Path, what: str, args: list[str], env: dict[str, str], named: str
) -> None:
    result = run_cli(*args, cwd=place, env=env)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode in (1, 2), (result.returncode, result.stdout)
    if result.returncode == 1:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert named in lines[0], lines[0]
    assert (place / "folder" / "keep.txt").read_text("utf-8") == "mine"
    assert (place / "newsletter.toml").exists()


def test_export_and_new_into_a_folder_not_there_yet_create_it(project: Path) -> None:
    exported = run_cli("subscribers", "export", "backups/2025/list.csv", cwd=project)
    assert exported.returncode == 0 and (project / "backups" / "2025" / "list.csv").is_file()
    made = run_cli("new", "--output", "drafts/next.md", "--date", "2025-09-11", cwd=project)
    assert made.returncode == 0 and (project / "drafts" / "next.md").is_file()


def test_a_postgresql_url_without_the_driver_says_which_extra_to_install(
    project: Path, tmp_path: Path
) -> None:
    shadow = tmp_path / "no-psycopg"
    (shadow / "psycopg").mkdir(parents=True)
    (shadow / "psycopg" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'psycopg'\", name='psycopg')\n"
    )
    result = run_cli(
        "subscribers", "list", cwd=project,
        env={"PYTHONPATH": str(shadow), "NEWSLETTER_DATABASE_URL": "postgresql://u:p@127.0.0.1/db"},
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "error: database_url needs a driver that is not installed (psycopg); "
        "for PostgreSQL, pip install 'newsletter[postgres]'"
    )
