"""Fixed template strings and typography per language, from templates/locales.toml."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.errors import TemplateError

__all__ = ["LOCALES_FILE", "Locale", "load_locales", "read_strings_file"]

LOCALES_FILE = "locales.toml"
_KEYS = (
    "font_family", "line_height", "reading_time", "date_format", "month_names", "greeting",
    "first_name_fallback", "view_in_browser", "read_on_web", "unsubscribe", "why_you_get_this",
)  # fmt: skip


_OPTIONAL = ("colon",)
"""Keys added after the first release: a locales file without them still loads."""


@dataclass(frozen=True)
class Locale:
    """Everything language-specific the templates print."""

    lang: str
    font_family: str
    line_height: str
    reading_time: str
    date_format: str
    month_names: tuple[str, ...]
    greeting: str
    first_name_fallback: str
    view_in_browser: str
    read_on_web: str
    unsubscribe: str
    why_you_get_this: str
    colon: str = ": "
    """What follows a label ("Unsubscribe: URL"); Chinese uses the full-width "：" alone."""

    @property
    def dir(self) -> str:
        return "rtl" if self.lang.split("-")[0] in {"ar", "fa", "he", "ur"} else "ltr"

    def format_date(self, date: dt.date) -> str:
        return self.date_format.format(
            year=date.year,
            month=date.month,
            day=date.day,
            month_name=self.month_names[date.month - 1],
        )

    def format_reading_time(self, minutes: int) -> str:
        return self.reading_time.format(minutes=minutes)


def read_strings_file(path: Path, what: str) -> dict[str, Any]:
    """A TOML file of strings under templates/, or an error naming the file and the fix."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TemplateError(
            f"{what} not found; restore it from the repository", path=path
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"not valid TOML: {exc}", path=path) from None


def load_locales(templates_dir: Path) -> dict[str, Locale]:
    """Read and check every language table: a missing key is an error, not an empty string."""
    path = templates_dir / LOCALES_FILE
    data = read_strings_file(path, "locales file")
    locales = {}
    for lang, table in data.items():
        missing = [key for key in _KEYS if key not in table]
        if missing:
            raise TemplateError(
                f"[{lang}] is missing {', '.join(missing)}; copy them from [en]", path=path
            )
        extra = sorted(set(table) - set(_KEYS) - set(_OPTIONAL))
        if extra:
            raise TemplateError(f"[{lang}] has unknown keys {', '.join(extra)}", path=path)
        if len(table["month_names"]) != 12:
            raise TemplateError(f"[{lang}] month_names needs 12 names", path=path)
        locales[lang] = Locale(lang=lang, **{**table, "month_names": tuple(table["month_names"])})
    return locales
