"""`newsletter backup` and `newsletter restore`: the whole store, not a CSV of it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from newsletter.cli.context import confirm, console, counted, settings

__all__ = ["backup", "restore"]


def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup.")],
) -> None:
    """Copy the whole list (history, erasures, issues, campaigns) to FILE, safely while in use.

    SQLite: a consistent copy through SQLite's online backup API. PostgreSQL: pg_dump, with a FILE.json manifest beside it. See docs/backups.md.
    """
    from newsletter.audience.backup import make_backup

    config = settings()
    manifest = make_backup(config.database_url, file)
    console.print(
        f"Backed up {manifest.subscribers:,} subscribers (schema {manifest.schema}) from "
        f"{escape(config.database_label)} to {escape(str(file))}"
    )


def restore(
    file: Annotated[Path, typer.Argument(help="A file written by `newsletter backup`.")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a list that has changes after the backup."),
    ] = False,
    suppressions: Annotated[
        Path | None,
        typer.Option(help="An erasures.log from the old list's folder: erase those people again."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the list with FILE; erasures and unsubscribes since the backup are carried over.

    A copy of the list it replaces is kept beside it. A backup from a newer newsletter is refused, an older one is migrated.
    """
    from newsletter.audience.backup import read_manifest
    from newsletter.audience.backup import restore as restore_backup

    config = settings()
    manifest = read_manifest(file)
    when = f"{manifest.last_change:%Y-%m-%d %H:%M} UTC" if manifest.last_change else "no changes"
    confirm(
        f"Replace the list at {config.database_label} with this backup "
        f"({manifest.subscribers:,} subscribers, last change {when})?",
        yes,
    )
    report = restore_backup(config.database_url, file, force=force, suppressions_log=suppressions)
    console.print(
        f"Restored {manifest.subscribers:,} subscribers into {escape(config.database_label)}."
    )
    if report.replaced_copy is not None:
        console.print(f"The list it replaced is kept in {escape(str(report.replaced_copy))}")
    if report.erased_again or report.left_again:
        console.print(
            f"[yellow]The backup predates {counted(report.erased_again, 'erasure')} and "
            f"{counted(report.left_again, 'departure')} (unsubscribes and bounces): applied "
            "again, from "
            f"{escape(', '.join(report.sources))}.[/]"
        )
