"""The `newsletter` command line: thin Typer commands over the pipeline modules.

Errors the user can fix arrive as NewsletterError and are printed once, in main(), as one
line; a traceback only with --debug. Heavy modules are imported inside the commands that need
them, so `newsletter --help` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from newsletter import __version__
from newsletter.cli import backup, campaigns, compose, preview, report, send, subscribers, web
from newsletter.cli.context import console, err_console, options
from newsletter.errors import NewsletterError, file_problem, one_line

__all__ = ["app", "main"]

app = typer.Typer(
    help="Turn the weekly article into a responsive email and deliver it to every subscriber.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(compose.build)
app.command()(compose.check)
app.command()(compose.new)
app.command()(preview.preview)
app.command()(preview.screenshot)
app.command()(send.send)
app.command()(campaigns.worker)
app.command()(backup.backup)
app.command()(backup.restore)
app.command()(web.serve)
app.command("report")(report.list_report)
app.add_typer(subscribers.app, name="subscribers")
campaigns.app.command("report")(report.campaign_report)
app.add_typer(campaigns.app, name="campaigns")
app.add_typer(web.archive_app, name="archive")


def _version(value: bool) -> None:
    if value:
        console.print(f"newsletter {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Settings file \\[default: ./newsletter.toml or $NEWSLETTER_CONFIG].",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    options.debug = debug
    options.config = config


def main() -> None:
    """Entry point, and the one error boundary: a user's mistake is one line and exit code 1.

    Problems a user can fix arrive as NewsletterError; a file or folder that cannot be read or
    written, and a database that refuses, are theirs too (a wrong path, a server down). Only
    --debug shows a traceback; anything else is a bug and keeps its traceback.
    """
    try:
        app()
    except KeyboardInterrupt:
        if options.debug:
            raise
        err_console.print("[red]interrupted[/red]")
        raise SystemExit(130) from None
    except Exception as exc:
        problem = _user_error(exc)
        if problem is None or options.debug:
            raise
        err_console.print(f"[red]error:[/red] {escape(one_line(str(problem)))}")
        raise SystemExit(1) from None


def _user_error(exc: Exception) -> NewsletterError | None:
    """The one-line error for a problem the user can fix; None for a bug."""
    if isinstance(exc, NewsletterError):
        return exc
    if isinstance(exc, OSError):
        return file_problem(exc)
    database = sys.modules.get("sqlalchemy.exc")  # loaded if the error came from there
    if database is not None and isinstance(exc, database.DBAPIError):
        orig = exc.orig or exc
        return NewsletterError(f"the database refused: {type(orig).__name__}: {orig}")
    return None
