"""`newsletter build` and `newsletter new`: from an article to a finished email."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

from newsletter.cli.context import console, counted, roomy, settings
from newsletter.errors import NewsletterError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from newsletter.compose.script import Reading
    from newsletter.config import ClickTracking
    from newsletter.qa.findings import Finding
    from newsletter.qa.report import Report

__all__ = ["build", "check", "new", "print_findings"]


def build(
    article: Annotated[Path, typer.Argument(help="The article: Markdown with front matter.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON for scripts.")
    ] = False,
) -> None:
    """Render ARTICLE into build/<slug>/: email.html, email.txt, email.mjml, email.eml, report.json.

    Exits 1 when the report has an error, such as HTML over Gmail's 102 KB clip.
    """
    from newsletter.qa.build import build as run_build

    result = run_build(article, settings())
    report = result.report
    if as_json:
        console.print_json(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        _print_report(result.out_dir, report)
    if not report.ok:
        raise typer.Exit(1)


def _print_report(out_dir: Path, report: Report) -> None:
    from newsletter.qa.size import CLIP_LIMIT, CLIP_WARN

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    size = report.html_bytes
    style = "red" if size > CLIP_LIMIT else "yellow" if size > CLIP_WARN else "green"
    margin = report.clip_margin_bytes
    clip = f"{abs(margin) / 1000:.1f} KB {'below' if margin >= 0 else 'over'} Gmail's {CLIP_LIMIT // 1000} KB clip"
    table.add_row("Subject", escape(report.subject))
    table.add_row("Preheader", escape(report.preheader))
    table.add_row("Reading time", f"{report.reading_minutes} min")
    table.add_row("HTML", f"[{style}]{size / 1000:.1f} KB[/] ({clip})")
    table.add_row(
        "Encoded",
        f"HTML part {report.html_part_encoded_bytes / 1000:.1f} KB, message {report.message_bytes / 1000:.1f} KB",
    )
    table.add_row("Images without alt", str(len(report.images_without_alt)))
    table.add_row("Non-https links", str(len(report.non_https_links)))
    table.add_row("Written to", escape(f"{out_dir}/"))
    if len(report.editions) > 1:
        others = ", ".join(f"{lang}/" for lang in report.editions[1:])
        table.add_row("Editions", escape(f"{', '.join(report.editions)} (in {out_dir}/{others})"))
    counts = report.counts()
    table.add_row(
        "QA",
        f"{counted(counts['error'], 'error')}, {counted(counts['warning'], 'warning')}: `newsletter check` explains each",
    )
    console.print(table)
    for finding in report.findings:
        colour = "red" if finding.severity == "error" else "yellow"
        console.print(f"[{colour}]{finding.severity}[/]: {escape(finding.message)}")


def check(
    article: Annotated[Path, typer.Argument(help="The article: Markdown with front matter.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the findings as JSON for scripts.")
    ] = False,
    check_links: Annotated[
        bool,
        typer.Option(
            "--check-links", help="Also ask every link over the network whether it answers."
        ),
    ] = False,
) -> None:
    """Run every QA rule on ARTICLE as its readers would get it; writes nothing.

    Exits 1 when a finding is an error (clipping, missing unsubscribe, unreadable contrast...).
    """
    from newsletter.qa.build import check as run_check

    config = settings()
    checked = run_check(article, config, links=check_links, spam=True)
    report = checked.report
    if checked.spam is None and not as_json:
        console.print(
            "note: SpamAssassin is not installed, so no spam score (apt-get install spamassassin)"
        )
    tracked = _tracked(checked.issue.html, config.click_tracking)
    if as_json:
        findings = [vars(f) for f in report.findings]
        spam = vars(checked.spam) if checked.spam else None
        data = {
            "ok": report.ok,
            "findings": findings,
            "spam": spam,
            "tracked_links": tracked,
            "editions": report.editions,
            "readings": [vars(r) for r in checked.readings],
        }
        console.print_json(json.dumps(data, ensure_ascii=False))
    else:
        if report.findings:
            print_findings(report.findings)
        else:
            console.print("[green]No findings.[/]")
        if tracked:
            console.print(
                f"{len(tracked)} links counted by {config.click_tracking} click tracking:"
            )
            for url in tracked:
                console.print(f"  {escape(url)}", soft_wrap=True)
        _print_readings(checked.readings)
    if not report.ok:
        raise typer.Exit(1)


def _print_readings(readings: Sequence[Reading]) -> None:
    """Where the zh-Hans edition chose between readings: the editor reviews these."""
    from newsletter.compose.script import AMBIGUOUS

    if not readings:
        return
    console.print(
        f"zh-Hans edition: {counted(len(readings), 'place')} to review (a character with two "
        "readings, or a phrase of yours):"
    )
    table = Table("line", "zh-Hant", "zh-Hans", "why")
    for r in readings:
        why = f"{r.char}: {AMBIGUOUS[r.char]}" if r.char else "your phrase"
        table.add_row(str(r.line), escape(r.source), escape(r.reading), escape(why))
    console.print(table)


def _tracked(html: str, mode: ClickTracking) -> list[str]:
    """The links campaign mail will lead through `serve` (none when tracking is off)."""
    from newsletter.config import ClickTracking
    from newsletter.render.tracking import tracked_links

    return [] if mode == ClickTracking.OFF else tracked_links(html)


def print_findings(findings: Sequence[Finding]) -> None:
    """The QA findings of `check`, also printed when a send refuses a message."""
    if not roomy():
        for f in findings:
            colour = "red" if f.severity == "error" else "yellow"
            console.print(f"[{colour}]{f.severity}[/] [bold]{f.code}[/] in {escape(f.where)}")
            for text in (escape(f.message), f"fix: {escape(f.fix)}"):
                if console.is_terminal:
                    console.print(Padding(text, (0, 0, 0, 2)), soft_wrap=False)
                else:  # piped output keeps each line whole, for grep
                    console.print(f"  {text}")
            console.print()
        return
    table = Table("severity", "rule", "where", "what", "how to fix")
    for column in table.columns[:2]:
        column.no_wrap = True
    for column in table.columns[2:]:
        column.overflow = "fold"
    for f in findings:
        colour = "red" if f.severity == "error" else "yellow"
        table.add_row(
            f"[{colour}]{f.severity}[/]", f.code, escape(f.where), escape(f.message), escape(f.fix)
        )
    console.print(table)


def new(
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Text pasted from the blog to convert (title, - author/date lines, paragraphs).",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Markdown file to write \\[default: articles/<name>.md]."
        ),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option(help="Article language, such as zh-Hant or en \\[default: detected]."),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(help="Issue date YYYY-MM-DD \\[default: from the text or file name]."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing output file.")
    ] = False,
    keep_punctuation: Annotated[
        bool,
        typer.Option(
            "--keep-punctuation",
            help="Keep half-width ,:;!?() in Chinese text as pasted (by default made full-width).",
        ),
    ] = False,
) -> None:
    """Start an article: convert a blog paste with --from, or write an empty one to fill in."""
    from newsletter.atomic import write_file
    from newsletter.compose.blogpaste import convert_paste

    issue_date = _parse_date(date)
    if lang is not None:
        _check_lang(lang)
    if source is None:
        issue_date = issue_date or dt.date.today()
        target = output or Path("articles") / f"{issue_date.isoformat()}.md"
        text = _skeleton(issue_date, lang or "en")
    else:
        try:
            pasted = source.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise NewsletterError(
                "file not found; check the path given to --from", path=source
            ) from None
        except UnicodeDecodeError:
            raise NewsletterError("not UTF-8 text; save the paste as UTF-8", path=source) from None
        try:
            converted = convert_paste(
                pasted,
                source_name=source.name,
                lang=lang,
                date=issue_date,
                keep_punctuation=keep_punctuation,
            )
        except ValueError as exc:
            raise NewsletterError(str(exc), path=source) from None
        target = output or Path("articles") / f"{source.stem}.md"
        text = converted.markdown
        console.print(f"Title     {escape(converted.title)}")
        console.print(f"Language  {converted.lang}    Date  {converted.date.isoformat()}")
        if converted.date_note:
            console.print(
                f"[yellow]Date      {escape(converted.date_note)}; --date YYYY-MM-DD sets another[/]"
            )
        for heading in converted.headings:
            console.print(f"Heading   {escape(heading)}")
        for line in converted.dropped:
            console.print(f"Dropped   {escape(line)}")
        if converted.punctuation:
            console.print(
                f"Punctuation  {counted(converted.punctuation, 'half-width mark')} in Chinese "
                "text made full-width (，：（）); --keep-punctuation keeps them"
            )
    if target.exists() and not force:
        raise NewsletterError(
            "already exists; choose another --output or pass --force", path=target
        )
    write_file(target, text.encode("utf-8"))
    console.print(
        f"[green]Wrote {escape(str(target))}[/]: check it, then run [bold]newsletter build {escape(str(target))}[/]"
    )


def _check_lang(lang: str) -> None:
    from newsletter.compose.locales import load_locales

    templates = settings().templates_dir
    available = load_locales(templates)
    if lang not in available:
        raise NewsletterError(
            f"--lang {lang!r} has no strings in {templates / 'locales.toml'}; use one of {', '.join(sorted(available))}"
        )


def _parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise NewsletterError(f"--date {value!r} is not a date; write it as YYYY-MM-DD") from None


def _skeleton(date: dt.date, lang: str) -> str:
    return (
        f"---\ntitle: \nauthor: \ndate: {date.isoformat()}\nlang: {lang}\n"
        "preheader: \n---\n\nThe first paragraph becomes the inbox preview unless you set a preheader.\n"
    )
