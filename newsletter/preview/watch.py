"""Saves that change the email: the article, anything under templates/, the settings, .env."""

from __future__ import annotations

import asyncio
from pathlib import Path

from watchfiles import awatch

from newsletter.config import DOTENV, config_path
from newsletter.preview.session import PreviewSession

__all__ = ["watch"]

DEBOUNCE_MS = 50
"""watchfiles waits 1.6 s by default; an editor's save is one burst well inside 50 ms."""


async def watch(session: PreviewSession, stop: asyncio.Event) -> None:
    """Re-render after each burst of saves until ``stop`` is set."""
    files, folders = _watched(session)
    roots = sorted({f.parent for f in files} | folders)
    async for changes in awatch(
        *roots, debounce=DEBOUNCE_MS, step=DEBOUNCE_MS, stop_event=stop, recursive=True
    ):
        if any(_relevant(Path(path), files, folders) for _, path in changes):
            await session.rerender()


def _watched(session: PreviewSession) -> tuple[set[Path], set[Path]]:
    settings_file = config_path(session.config).resolve()
    files = {session.article.resolve(), settings_file, settings_file.parent / DOTENV}
    folders = set()
    if session.snapshot.settings is not None:
        folders.add(session.snapshot.settings.templates_dir.resolve())
    return files, {f for f in folders if f.is_dir()}


def _relevant(path: Path, files: set[Path], folders: set[Path]) -> bool:
    path = path.resolve()
    return path in files or any(path.is_relative_to(folder) for folder in folders)
