"""The options that choose a segment, the same for `send`, `subscribers list` and `export`."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["AllTagsOption", "LangOption", "TagsOption"]

TagsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        metavar="TAG",
        help="Only readers with this tag (any case); repeat for readers with any of them.",
    ),
]
AllTagsOption = Annotated[
    bool,
    typer.Option("--all-tags", help="With several --tag: only readers who have all of them."),
]
LangOption = Annotated[
    str | None, typer.Option("--lang", metavar="LANG", help="Only readers with this language.")
]
