"""Atomic writes: whole or nothing, never over the user's own folders, with the usual modes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from newsletter.atomic import MARKER, open_atomic, replace_dir, write_file
from newsletter.errors import NewsletterError


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_written_folder_and_its_files_get_the_modes_open_and_mkdir_would(tmp_path: Path) -> None:
    target = tmp_path / "build" / "issue"
    replace_dir(target, {"email.html": b"<p>hi</p>", "img/a.png": b"png"}, what="the build")
    assert _mode(target) == 0o777 & ~_umask()
    assert _mode(target / "email.html") == 0o666 & ~_umask()
    assert _mode(target / "img") == 0o777 & ~_umask()


def test_a_single_file_is_readable_like_any_other_unless_private(tmp_path: Path) -> None:
    write_file(tmp_path / "shot.png", b"png")
    with open_atomic(tmp_path / "subscribers.csv", private=True) as handle:
        handle.write("email\n")
    assert _mode(tmp_path / "shot.png") == 0o666 & ~_umask()
    assert _mode(tmp_path / "subscribers.csv") == 0o600


def test_a_folder_is_replaced_whole_and_the_old_one_is_gone(tmp_path: Path) -> None:
    target = tmp_path / "out"
    replace_dir(target, {"a.txt": b"1", "b.txt": b"2"}, what="the build")
    replace_dir(target, {"a.txt": b"3"}, what="the build")
    assert sorted(p.name for p in target.iterdir()) == [MARKER, "a.txt"]
    assert (target / "a.txt").read_bytes() == b"3"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging or old copy left


def test_a_folder_newsletter_did_not_make_is_never_replaced(tmp_path: Path) -> None:
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "todo.txt").write_text("keep me")
    with pytest.raises(NewsletterError, match="was not made by newsletter"):
        replace_dir(mine, {"a.txt": b"1"}, what="the build")
    assert (mine / "todo.txt").read_text() == "keep me"


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "article.md"
    path.write_text("old")
    with pytest.raises(RuntimeError), open_atomic(path) as handle:
        handle.write("half")
        raise RuntimeError("disk full")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["article.md"]
