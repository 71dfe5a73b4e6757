"""Backups that restore: nobody is mailed an issue again, nobody erased or gone comes back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.cli.test_compose import assert_one_line_error
from tests.conftest import REPO, SAMPLE_ARTICLE, run_cli, smtp_env
from tests.fakes import smtp as fake_smtp

ERASED = "lin.yating@example.net"
LEFT = "chan.taiman@example.com"


def project_with(folder: Path, database_url: str | None = None) -> dict[str, str]:
    folder.mkdir()
    shutil.copy(REPO / "newsletter.toml", folder)
    shutil.copytree(REPO / "templates", folder / "templates")
    return {"NEWSLETTER_DATABASE_URL": database_url} if database_url else {}


def sent_and_backed_up(folder: Path, env: dict[str, str]) -> Path:
    """The sample list imported and sent the sample issue, then backed up."""
    imported = run_cli(
        "subscribers", "import", str(REPO / "subscribers" / "sample.csv"), cwd=folder, env=env
    )
    assert imported.returncode == 0, imported.stderr
    with fake_smtp.running() as server:
        sent = run_cli(
            "send", str(SAMPLE_ARTICLE), "--yes", cwd=folder, env={**env, **smtp_env(server.port)}
        )
        assert sent.returncode == 0, sent.stderr
    assert len(server.messages) == 13
    backed = run_cli("backup", "backup.db", cwd=folder, env=env)
    assert backed.returncode == 0 and "Backed up 20 subscribers" in backed.stdout, backed.stderr
    return folder / "backup.db"


def leave_after_the_backup(folder: Path, env: dict[str, str]) -> None:
    assert run_cli("subscribers", "remove", ERASED, "--yes", cwd=folder, env=env).returncode == 0
    unsubscribed = run_cli(
        "subscribers", "unsubscribe", LEFT, "--reason", "asked", cwd=folder, env=env
    )
    assert unsubscribed.returncode == 0, unsubscribed.stderr


def nobody_is_mailed_again(folder: Path, env: dict[str, str]) -> None:
    with fake_smtp.running() as server:
        again = run_cli(
            "send", str(SAMPLE_ARTICLE), "--yes", cwd=folder, env={**env, **smtp_env(server.port)}
        )
    assert again.returncode == 0 and "(continuing)" in again.stdout, again.stderr
    assert server.messages == []
    gone = run_cli("subscribers", "show", ERASED, cwd=folder, env=env)
    assert gone.returncode == 1 and "not on the list" in gone.stderr
    back = run_cli(
        "subscribers", "import", str(REPO / "subscribers" / "sample.csv"), cwd=folder, env=env
    )
    assert "suppressed" in back.stdout
    assert run_cli("subscribers", "show", ERASED, cwd=folder, env=env).returncode == 1


def test_restored_in_place_the_list_keeps_who_left_after_the_backup(
    tmp_path: Path, database_url: str
) -> None:
    folder = tmp_path / "weekly"
    env = project_with(folder, database_url)
    backup = sent_and_backed_up(folder, env)
    leave_after_the_backup(folder, env)
    newer = run_cli("restore", str(backup), "--yes", cwd=folder, env=env)
    assert_one_line_error(newer, "has changes after this backup", "--force")
    restored = run_cli("restore", str(backup), "--force", "--yes", cwd=folder, env=env)
    assert restored.returncode == 0, restored.stderr
    assert "predates 1 erasure and 1 departure" in restored.stdout
    assert "kept in" in restored.stdout
    shown = json.loads(run_cli("subscribers", "show", LEFT, "--json", cwd=folder, env=env).stdout)
    assert shown["status"] == "unsubscribed"
    nobody_is_mailed_again(folder, env)


def test_restored_into_a_fresh_folder_an_older_backup_is_told_the_erasures_since(
    tmp_path: Path,
) -> None:
    old = tmp_path / "old"
    backup = sent_and_backed_up(old, project_with(old))
    leave_after_the_backup(old, {})
    fresh = tmp_path / "fresh"
    project_with(fresh)
    restored = run_cli(
        "restore", str(backup), "--suppressions", str(old / "subscribers" / "erasures.log"), "--yes",
        cwd=fresh,
    )  # fmt: skip
    assert restored.returncode == 0, restored.stderr
    assert "predates 1 erasure" in restored.stdout and "erasures.log" in restored.stdout
    nobody_is_mailed_again(fresh, {})


def test_a_backup_from_a_newer_newsletter_is_refused(tmp_path: Path) -> None:
    import sqlite3

    folder = tmp_path / "weekly"
    project_with(folder)
    assert run_cli("subscribers", "stats", cwd=folder).returncode == 0
    assert run_cli("backup", "backup.db", cwd=folder).returncode == 0
    with sqlite3.connect(folder / "backup.db") as raw:
        raw.execute("UPDATE schema_version SET version = 99")
    refused = run_cli("restore", "backup.db", "--yes", cwd=folder)
    assert_one_line_error(refused, "schema version 99", "upgrade newsletter")


def test_export_says_it_is_not_a_backup(tmp_path: Path) -> None:
    folder = tmp_path / "weekly"
    project_with(folder)
    exported = run_cli("subscribers", "export", "list.csv", cwd=folder)
    assert exported.returncode == 0 and "not a backup" in exported.stderr
    assert "newsletter backup" in exported.stderr
