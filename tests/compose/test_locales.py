"""templates/locales.toml: a language that lacks a string is an error, not a blank in the email."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from newsletter.compose.locales import load_locales
from newsletter.errors import TemplateError
from tests.conftest import REPO


def test_dates_are_written_the_way_each_language_writes_them() -> None:
    locales = load_locales(REPO / "templates")
    assert locales["zh-Hant"].format_date(dt.date(2025, 9, 4)) == "2025年9月4日"
    assert locales["en"].format_date(dt.date(2025, 9, 4)) == "4 September 2025"


def test_a_language_missing_a_string_is_named(tmp_path: Path) -> None:
    source = (REPO / "templates" / "locales.toml").read_text(encoding="utf-8")
    broken = source.replace('unsubscribe = "取消訂閱"\n', "")
    (tmp_path / "locales.toml").write_text(broken, encoding="utf-8")
    with pytest.raises(TemplateError, match=r"locales\.toml: \[zh-Hant\] is missing unsubscribe"):
        load_locales(tmp_path)
