"""What every command shares: the consoles and the settings chosen by the global options."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from newsletter.audience.store import Store
    from newsletter.config import Settings

__all__ = [
    "confirm",
    "console",
    "counted",
    "err_console",
    "listen",
    "open_store",
    "options",
    "roomy",
    "settings",
]

console = Console(soft_wrap=True)  # paths and findings stay on one line when piped
err_console = Console(stderr=True, soft_wrap=True)


WIDE = 120
"""Terminal columns from which wide tables fit; narrower, or piped, rows print as blocks."""


def roomy() -> bool:
    """Whether a wide table fits, rather than cutting or folding its ids and words."""
    return console.is_terminal and console.width >= WIDE


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


def confirm(question: str, yes: bool) -> None:
    """Ask, unless --yes; "no" exits 1. With no terminal to ask on (cron), say so in one line."""
    import typer

    from newsletter.errors import NewsletterError

    if yes:
        return
    try:
        answer = typer.confirm(question)
    except typer.Abort:
        if sys.stdin.isatty():
            raise typer.Exit(1) from None
        raise NewsletterError(
            f"{question!r} needs an answer and there is no terminal to ask on (cron?); "
            "pass --yes to go ahead without asking"
        ) from None
    if not answer:
        raise typer.Exit(1)


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, bound before anything starts: a taken port is one line, not a log."""
    from newsletter.errors import NewsletterError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise NewsletterError(
            f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port"
        ) from None
    sock.listen(128)
    return sock


def counted(number: int, noun: str) -> str:
    """``1 batch``, ``2 batches``: English plurals for the few nouns printed with numbers."""
    plural = noun + ("es" if noun.endswith(("ch", "s", "x")) else "s")
    return f"{number:,} {noun if number == 1 else plural}"
