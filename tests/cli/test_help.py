"""Every command explains itself, and its help reads as a person would write it."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from newsletter.cli import app


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


COMMANDS = _commands(typer.main.get_group(app))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "newsletter")
def test_every_command_has_help_and_flags_do_not_look_like_they_take_a_value(
    command: tuple[str, ...],
) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert "<bool>" not in result.output
    assert "<list[" not in result.output


def test_help_loads_neither_the_settings_nor_the_rendering_pipeline() -> None:
    """`--help` paid 140 ms for pydantic-settings and email_validator it never used."""
    import subprocess
    import sys

    shown = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "newsletter", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.split("|")[-1].strip() for line in shown.stderr.splitlines()}
    assert "Usage" in shown.stdout
    for heavy in (
        "pydantic_settings", "email_validator", "newsletter.config", "premailer", "lxml",
        "rich.progress",  # only a send or an import draws a progress bar
    ):  # fmt: skip
        assert heavy not in imported, heavy
