"""Write a folder of files all at once: readers see the old folder or the new one, never half.

A folder is replaced only when newsletter made it: each one it writes carries a marker file,
and a folder without one (a project, the articles, anything of the user's) is refused in one
line, whatever path a command was given.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from fnmatch import fnmatch
from pathlib import Path
from typing import TextIO

from newsletter.errors import NewsletterError

__all__ = ["MARKER", "open_atomic", "replace_dir", "replaceable", "write_file"]

_UMASK = os.umask(0o022)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK
"""What open() would give: temp files are 0600, which hides a build or a screenshot from the
web server and the colleague it is for. Files holding readers' addresses keep 0600."""
FOLDER_MODE = 0o777 & ~_UMASK

MARKER = ".newsletter-output"
"""The file in every folder newsletter writes as a whole: its name says it may replace it."""


def replaceable(target: Path, what: str, earlier: Sequence[str] = ()) -> Path:
    """The folder, resolved, if newsletter may replace it: new, empty, or carrying the marker.

    ``earlier`` are the name patterns of what this output held before markers existed: a
    folder holding nothing else is ours too. Raises NewsletterError naming the folder
    otherwise (never for a missing folder).
    """
    folder = target.resolve()
    if folder.exists() and not folder.is_dir():
        raise NewsletterError(f"{target} is a file, not a folder; choose a folder for {what}")
    if folder == Path.cwd().resolve() or folder in Path.cwd().resolve().parents:
        raise NewsletterError(
            f"{target} is the working folder or holds it; choose a folder of its own for {what}"
        )
    if folder.is_dir() and not (folder / MARKER).is_file() and not _only(folder, earlier):
        raise NewsletterError(
            f"{target} was not made by newsletter (no {MARKER} file in it), so it is not "
            f"replaced; choose a new or empty folder for {what}, or empty this one yourself"
        )
    return folder


def replace_dir(
    target: Path, files: Mapping[str, bytes], *, what: str, earlier: Sequence[str] = ()
) -> None:
    """Write files into a sibling temp folder, then swap it in place of target.

    Target must be replaceable (see ``replaceable``); ``what`` names the output in errors.
    """
    target = replaceable(target, what, earlier)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    staging.chmod(FOLDER_MODE)
    try:
        (staging / MARKER).write_text(f"{what}: newsletter replaces this folder as a whole\n")
        for name, data in files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(data)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old.{os.getpid()}")
            target.rename(old)
        try:
            staging.rename(target)
        except BaseException:
            if old is not None:
                old.rename(target)
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_file(path: Path, data: bytes, *, private: bool = False) -> None:
    """Replace one file atomically (temp file in the same folder, then rename).

    ``private`` keeps it readable by its owner only: for files that hold readers' addresses.
    """
    _not_a_folder(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    if not private:
        os.fchmod(fd, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@contextmanager
def open_atomic(path: Path, encoding: str = "utf-8", *, private: bool = False) -> Iterator[TextIO]:
    """A text file that appears at path only when the block finishes without error."""
    _not_a_folder(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    if not private:
        os.fchmod(fd, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as handle:
            yield handle
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _not_a_folder(path: Path) -> None:
    if path.is_dir():
        raise NewsletterError(f"{path} is a folder; give the name of a file to write")


def _only(folder: Path, patterns: Sequence[str]) -> bool:
    """Whether everything in the folder matches one of the patterns (true when it is empty)."""
    return all(any(fnmatch(entry.name, p) for p in patterns) for entry in folder.iterdir())
