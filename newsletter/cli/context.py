"""What every command shares: the consoles and the settings chosen by the global options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from newsletter.config import Settings

__all__ = ["console", "err_console", "options", "settings"]

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
