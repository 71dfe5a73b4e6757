"""What every command shares: the consoles and the settings chosen by the global options."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from newsletter.audience.store import Store
    from newsletter.config import Settings

__all__ = ["console", "err_console", "open_store", "options", "settings"]

console = Console(soft_wrap=True)  # paths and findings stay on one line when piped
err_console = Console(stderr=True, soft_wrap=True)


@dataclass
class Options:
    debug: bool = False
    config: Path | None = None


options = Options()


def settings() -> Settings:
    """Load settings when a command needs them (imported lazily to keep --help fast)."""
    from newsletter.config import load_settings

    return load_settings(options.config)


@contextmanager
def open_store(config: Settings | None = None) -> Iterator[Store]:
    """The subscriber store of the settings, closed when the command is done."""
    from newsletter.audience.store import Store

    store = Store.open((config or settings()).database_url)
    try:
        yield store
    finally:
        store.close()
