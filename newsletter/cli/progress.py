"""The progress bar of a send and a dry run: imported when one starts, not by `--help`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from newsletter.cli.context import console

__all__ = ["sending_bar"]


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f} msg/s" if task.speed else "", style="progress.data.speed")


@contextmanager
def sending_bar() -> Iterator[tuple[Progress, Callable[[int], None]]]:
    """A bar with the count, the rate and the time left; yields it and its advance()."""
    columns = (
        TextColumn("sending"),
        BarColumn(),
        MofNCompleteColumn(),
        _Rate(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("send", total=None)
        yield bar, lambda n: bar.advance(task, n)
