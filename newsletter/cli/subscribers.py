"""`newsletter subscribers ...`: the list, from the command line."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from newsletter.cli.context import confirm as ask
from newsletter.cli.context import console, counted, err_console, open_store, settings
from newsletter.cli.segment import AllTagsOption, LangOption, TagsOption
from newsletter.errors import NewsletterError

if TYPE_CHECKING:
    from newsletter.audience.models import Filters, Subscriber

__all__ = ["app"]

app = typer.Typer(
    help="Manage the subscriber list (subscribers/subscribers.db by default).", no_args_is_help=True
)

StatusOption = Annotated[
    str | None,
    typer.Option(
        "--status", help="pending, subscribed, unsubscribed, bounced, complained or blocked."
    ),
]
SearchOption = Annotated[str | None, typer.Option("--search", help="Part of the address or name.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _filters(
    status: str | None,
    tags: list[str] | None,
    all_tags: bool,
    lang: str | None,
    search: str | None,
) -> Filters:
    from newsletter.audience.models import Filters, Status

    if status is not None and status not in {s.value for s in Status}:
        raise NewsletterError(
            f"--status {status!r} is not a status; use one of {', '.join(s.value for s in Status)}"
        )
    return Filters(
        Status(status) if status else None, tuple(tags or ()), lang, search, all_tags=all_tags
    )


@app.command()
def add(
    email: Annotated[str, typer.Argument(help="The address.")],
    name: Annotated[str | None, typer.Option(help="Full name.")] = None,
    lang: Annotated[
        str | None, typer.Option(help="Language for the fixed strings: zh-Hant or en.")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="A tag (segment); repeat for more.")
    ] = None,
    consent: Annotated[
        str | None,
        typer.Option(
            help="How this person agreed (stored as evidence). Without it they are pending."
        ),
    ] = None,
) -> None:
    """Add one subscriber: subscribed with --consent evidence, otherwise pending (double opt-in)."""
    from newsletter.audience.models import Status
    from newsletter.audience.store import Consent

    with open_store() as store:
        subscriber = store.add(
            email,
            name=name,
            lang=lang,
            tag_names=tag or (),
            consent=Consent(f"cli: {consent}") if consent else None,
        )
    console.print(f"Added {escape(subscriber.email)} as [bold]{subscriber.status}[/]")
    if subscriber.status is Status.PENDING:
        console.print(
            "[yellow]Pending readers get no issue until they confirm: `newsletter subscribers "
            f"confirm --send {escape(subscriber.email)}` mails them the link (or add --consent "
            "if they agreed elsewhere).[/]"
        )


@app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="CSV, or a ZIP of CSVs (Mailchimp audience export).")
    ],
    encoding: Annotated[
        str | None, typer.Option(help="The file's encoding when not UTF-8/UTF-16, such as big5.")
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map", help="COLUMN=FIELD for a column the import does not recognise; repeatable."
        ),
    ] = None,
    consent: Annotated[
        str | None,
        typer.Option(
            help="How everyone in the file agreed; without it new rows are pending, not subscribed."
        ),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option(help="Language of rows that give none (Mailchimp's), such as zh-Hant."),
    ] = None,
    update_names: Annotated[
        bool,
        typer.Option(
            "--update-names",
            help="Let the file's names and languages replace those already on the list.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
    ] = False,
) -> None:
    """Import subscribers: Mailchimp, listmonk, our own export or a plain list, auto-detected.

    Duplicates merge; nobody unsubscribed, bounced, complained, blocked or erased becomes
    subscribed again (counted as suppressed). Bad rows go to FILE.rejects.csv. All or nothing.
    """
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from newsletter.audience.importer import import_file

    mapping = _parse_map(map_ or [])
    total = file.stat().st_size if file.is_file() else 0
    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with (
        open_store() as store,
        Progress(*columns, console=err_console, transient=True, disable=total < 1_000_000) as bar,
    ):
        task = bar.add_task("import", total=total)
        report = import_file(
            store,
            file,
            encoding=encoding,
            mapping=mapping,
            consent_text=consent,
            default_lang=lang,
            update_names=update_names,
            dry_run=dry_run,
            progress=lambda n: bar.advance(task, n),
        )
    _print_import(report)


def _parse_map(items: list[str]) -> dict[str, str]:
    mapping = {}
    for item in items:
        column, sep, target = item.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise NewsletterError(f"--map {item!r} should look like 'Column Name=email'")
        mapping[column.strip()] = target.strip()
    return mapping


def _print_import(report: Any) -> None:
    for sheet, fmt in report.sheets:
        console.print(f"{escape(sheet)}: read as [bold]{escape(fmt)}[/]")
    table = Table(show_header=False, box=None)
    for label, value in (
        ("rows read", report.rows),
        ("added", report.added),
        ("  of them pending (no issue until they confirm)", report.pending),
        ("updated", report.updated),
        ("unchanged", report.unchanged),
        ("suppressed (had left: not resubscribed)", report.suppressed),
        ("duplicates merged", report.duplicates),
        ("rejected", sum(report.rejected.values())),
    ):
        table.add_row(label, str(value))
    for reason, count in sorted(report.rejected.items()):
        table.add_row(f"  {escape(reason)}", str(count))
    console.print(table)
    if report.rejects_file:
        console.print(f"Rejected rows, with line and reason: {escape(str(report.rejects_file))}")
    if report.pending:
        console.print(
            f"[yellow]{counted(report.pending, 'new reader')} pending: no issue until they "
            "confirm. `newsletter subscribers confirm --send` mails them the confirmation link; "
            "or import again with --consent if they agreed elsewhere.[/]"
        )
    if report.dry_run:
        console.print("[yellow]Dry run: nothing was changed.[/]")


@app.command()
def export(
    output: Annotated[
        Path | None, typer.Argument(help="CSV file to write [default: standard output].")
    ] = None,
    status: StatusOption = None,
    tag: TagsOption = None,
    all_tags: AllTagsOption = False,
    lang: LangOption = None,
    search: SearchOption = None,
) -> None:
    """Export every field of all (or the filtered) subscribers as UTF-8 CSV with a header.

    Cells a spreadsheet would run as a formula are neutralised; `import` of this file into an
    empty list reproduces it exactly.
    """
    from newsletter.atomic import open_atomic
    from newsletter.audience.export import write_csv

    filters = _filters(status, tag, all_tags, lang, search)
    with open_store() as store:
        if output is None:
            write_csv(store, sys.stdout, filters)
            return
        with open_atomic(output, private=True) as handle:
            count = write_csv(store, handle, filters)
    err_console.print(f"Exported {count} subscribers to {escape(str(output))}")
    err_console.print(
        "note: an export is not a backup (no status history, no erased people's hashes, no "
        "campaigns): `newsletter backup FILE` keeps all of it"
    )


@app.command("list")
def list_(
    status: StatusOption = None,
    tag: TagsOption = None,
    all_tags: AllTagsOption = False,
    lang: LangOption = None,
    search: SearchOption = None,
    page: Annotated[int, typer.Option(min=1, max=10**9, help="Page number.")] = 1,
    per_page: Annotated[int, typer.Option(min=1, max=10_000, help="Rows per page.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """List subscribers as a table (or JSON), filtered and paged."""
    filters = _filters(status, tag, all_tags, lang, search)
    with open_store() as store:
        rows = store.find(filters, limit=per_page, offset=(page - 1) * per_page)
        total = store.count(filters)
    if as_json:
        print(json.dumps([_public(s) for s in rows], ensure_ascii=False, indent=2))
        return
    table = Table("email", "name", "lang", "tags", "status", "since")
    table.columns[0].overflow = "fold"  # an address is useless cut short
    for s in rows:
        since = s.status_changed_at.date().isoformat() if s.status_changed_at else ""
        table.add_row(
            escape(s.email),
            escape(s.name or ""),
            s.lang or "",
            escape(", ".join(s.tags)),
            s.status,
            since,
        )
    console.print(table)
    pages = max(1, math.ceil(total / per_page))
    console.print(f"page {page} of {pages} ({total} subscribers)")


@app.command()
def show(email: Annotated[str, typer.Argument()], as_json: JsonOption = False) -> None:
    """Everything stored about one subscriber, with the status history."""
    with open_store() as store:
        subscriber = store.get(email)
        if subscriber is None:
            raise NewsletterError(f"{email} is not on the list")
        history = store.history(email)
    data = _public(subscriber, full=True)
    data["history"] = [
        {
            "at": h.changed_at.isoformat(),
            "from": h.from_status,
            "to": h.to_status,
            "by": h.actor,
            "reason": h.reason,
        }
        for h in history
    ]
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    table = Table(show_header=False, box=None)
    for key, value in data.items():
        if key != "history":
            table.add_row(key, escape(str(value if value not in (None, [], {}) else "")))
    console.print(table)
    history_table = Table("when", "from", "to", "by", "reason", title="status history")
    for h in data["history"]:
        history_table.add_row(
            h["at"], h["from"] or "", h["to"], escape(h["by"]), escape(h["reason"] or "")
        )
    console.print(history_table)


@app.command()
def remove(
    email: Annotated[str, typer.Argument()],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a subscriber's personal data (GDPR erasure).

    The row, name, tags and attributes are deleted. A one-way hash of the address stays in the
    suppression list, so no later import or sign-up can bring the address back.
    """
    ask(f"Erase {email} for good?", yes)
    with open_store() as store:
        store.erase(email)
    console.print(f"Erased {escape(email)}; its hash stays on the suppression list")


@app.command()
def unsubscribe(
    email: Annotated[str, typer.Argument()],
    reason: Annotated[
        str | None, typer.Option(help="Why, for the history (for example 'asked by email').")
    ] = None,
) -> None:
    """Unsubscribe one address now (idempotent)."""
    with open_store() as store:
        subscriber = store.unsubscribe(email, reason=reason)
    console.print(f"{escape(subscriber.email)} is {subscriber.status}")


@app.command()
def resubscribe(
    email: Annotated[str, typer.Argument()],
    reason: Annotated[
        str | None,
        typer.Option(
            help="Required unless already subscribed: when and how they asked to come back."
        ),
    ] = None,
) -> None:
    """Subscribe an address again; the reason is kept in the status history."""
    with open_store() as store:
        subscriber = store.resubscribe(email, reason=reason)
    console.print(f"{escape(subscriber.email)} is {subscriber.status}")


@app.command("confirm")
def confirm_(
    emails: Annotated[
        list[str] | None, typer.Argument(help="Pending readers to ask [default: every one].")
    ] = None,
    send: Annotated[
        bool, typer.Option("--send", help="Mail them the link; without it, only list them.")
    ] = False,
) -> None:
    """Mail pending readers the double opt-in link of the sign-up form (at most 3 a day each).

    Pending readers get no issue until they click it; their click is the consent evidence.
    """
    from newsletter.delivery.invitations import invite, pending_readers

    config = settings()
    with open_store(config) as store:
        readers = pending_readers(store, emails or [])
        if not send:
            for reader in readers:
                console.print(escape(reader.email))
            console.print(f"{len(readers)} pending; add --send to mail them the confirmation link")
            return
        outcomes = invite(store, config, readers)
    for outcome in outcomes:
        colour = "green" if outcome.sent else "yellow"
        console.print(f"[{colour}]{escape(outcome.email)}[/]: {escape(outcome.detail)}")
    if any(not outcome.sent for outcome in outcomes):
        raise typer.Exit(1)


@app.command("set")
def set_(
    email: Annotated[str, typer.Argument()],
    name: Annotated[str | None, typer.Option(help="The reader's name.")] = None,
    lang: Annotated[
        str | None, typer.Option(help="The reader's language, such as zh-Hant.")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Add this tag; repeatable.")
    ] = None,
    untag: Annotated[
        list[str] | None, typer.Option("--untag", help="Remove this tag; repeatable.")
    ] = None,
) -> None:
    """Change one reader's name, language or tags; the status history records what changed."""
    if name is None and lang is None and not tag and not untag:
        raise NewsletterError("say what to change: --name, --lang, --tag or --untag")
    with open_store() as store:
        subscriber, said = store.update(
            email, name=name, lang=lang, add_tags=tag or [], remove_tags=untag or []
        )
    console.print(
        f"{escape(subscriber.email)}: " + (escape("; ".join(said)) if said else "nothing changed")
    )


@app.command()
def tag(
    tag_name: Annotated[str, typer.Argument(metavar="TAG")],
    emails: Annotated[list[str], typer.Argument()],
) -> None:
    """Add TAG to each address."""
    with open_store() as store:
        changed = store.tag(emails, tag_name)
    console.print(f"Tagged {counted(changed, 'subscriber')} with {escape(tag_name)}")


@app.command()
def untag(
    tag_name: Annotated[str, typer.Argument(metavar="TAG")],
    emails: Annotated[list[str], typer.Argument()],
) -> None:
    """Remove TAG from each address."""
    with open_store() as store:
        changed = store.tag(emails, tag_name, remove=True)
    console.print(f"Removed {escape(tag_name)} from {changed} subscriber(s)")


@app.command()
def stats(as_json: JsonOption = False) -> None:
    """Counts per status, tag and language, and where the list lives."""
    config = settings()
    with open_store(config) as store:
        numbers = store.stats()
    if as_json:
        print(
            json.dumps(
                {
                    "database": config.database_label,
                    "total": numbers.total,
                    "status": numbers.by_status,
                    "tag": numbers.by_tag,
                    "lang": numbers.by_lang,
                    "look_alike_tags": numbers.look_alike,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for title, counts in (
        ("status", numbers.by_status),
        ("tag", numbers.by_tag),
        ("lang", numbers.by_lang),
    ):
        table = Table(title, "subscribers")
        for key, value in sorted(counts.items()):
            table.add_row(escape(str(key)), str(value))
        console.print(table)
    console.print(f"{numbers.total} in total, in {escape(config.database_label)}")
    for names in numbers.look_alike:
        listed = ", ".join(escape(repr(n)) for n in names)
        err_console.print(
            f"warning: tags {listed} look like one segment spelled differently; "
            f"move readers to one with `subscribers tag` and `untag`"
        )


def _public(subscriber: Subscriber, *, full: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "email": subscriber.email,
        "name": subscriber.name,
        "lang": subscriber.lang,
        "tags": list(subscriber.tags),
        "status": subscriber.status.value,
    }
    if full:
        for key in (
            "source", "created_at", "confirmed_at", "unsubscribed_at", "status_changed_at", "consent_at",
            "consent_method", "consent_ip", "consent_user_agent", "bounce_count", "last_bounce_reason", "attributes",
        ):  # fmt: skip
            value = getattr(subscriber, key)
            data[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return data
