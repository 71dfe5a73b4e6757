"""Turn an article pasted from the blog into Markdown with front matter, for the editor to check.

The paste is plain lines: a title, ``- author``, ``- date`` and ``- reading time`` lines, then
paragraphs. Short lines without closing punctuation are section headings; this works for
Chinese (no spaces, full-width punctuation) as for English. A closing parenthesised source
note becomes a ``::: note`` block, and page furniture such as a trailing ``留言`` is dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from newsletter.compose.article import derive_preheader, slugify
from newsletter.compose.punctuation import full_width
from newsletter.compose.reading import count_text, display_width

__all__ = ["Converted", "convert_paste"]

HEADING_MAX_WIDTH = 60
"""A heading is at most 30 CJK or 60 Latin characters wide."""
_CLOSING = tuple("。！？；：，、….!?;:,」』）)”’\"'")
_FURNITURE = {
    "留言", "回覆", "分享", "讚", "讚好", "喜歡", "按讚", "最近文章", "查看全部", "全部文章", "標籤",
    "comment", "comments", "leave a comment", "share", "like", "reply", "recent posts", "see all",
}  # fmt: skip
_READING = re.compile(
    r"(讀畢需時|閱讀時間|阅读时间|\bmin(ute)?s?\s+read\b|\bread(ing)? time\b)", re.I
)
_ZH_DATE = re.compile(r"^(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*日$")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_EN_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_EN_DATE = re.compile(
    r"^(?:(\d{1,2})\s+([A-Za-z]{3,9})|([A-Za-z]{3,9})\s+(\d{1,2}))(?:,?\s+(\d{4}))?$"
)
_NOTE = re.compile(r"^[（(].*[)）]$")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+\-=]|\d+[.)])(?=\s|$)")


@dataclass(frozen=True)
class Converted:
    """The Markdown file, and what the converter decided, for the CLI to report."""

    markdown: str
    title: str
    lang: str
    date: dt.date
    headings: tuple[str, ...]
    dropped: tuple[str, ...]
    date_note: str = ""
    """How the date was chosen when the text did not give it whole, for the editor to check."""
    punctuation: int = 0
    """Half-width marks in Chinese text made full-width."""


def convert_paste(
    text: str,
    *,
    source_name: str,
    lang: str | None = None,
    date: dt.date | None = None,
    today: dt.date | None = None,
    keep_punctuation: bool = False,
) -> Converted:
    """Convert the pasted text; the file name, else the nearest year, completes a date without one."""
    lines = [line.replace("\u00a0", " ").strip() for line in text.replace("\r\n", "\n").split("\n")]
    lines, dropped = _drop_furniture(lines)
    lang = lang or _detect_lang("\n".join(line for line in lines if line))
    changed = 0
    if lang.startswith("zh") and not keep_punctuation:
        converted = [full_width(line) for line in lines]
        lines, changed = [line for line, _ in converted], sum(n for _, n in converted)
    content = [line for line in lines if line]
    if not content:
        raise ValueError("the pasted text is empty")
    title, rest = content[0], content[1:]
    today = today or dt.date.today()
    author, found, reading, rest = _meta_lines(rest, source_name, today)
    date, date_note = _choose_date(date, found, source_name, today)
    body, headings = _body(rest)
    front = {
        "title": title,
        "author": author,
        "date": date,
        "lang": lang,
        "slug": slugify(Path(source_name).stem) or date.isoformat(),
    }
    first_paragraph = next(
        (line for line in rest if line not in headings and not _NOTE.match(line)), ""
    )
    if first_paragraph:
        front["preheader"] = derive_preheader(first_paragraph)
    front = {key: value for key, value in front.items() if value is not None}
    yaml_text = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
    if reading:
        yaml_text += f"# The blog said {reading!r}; newsletter computes the reading time itself.\n"
    markdown = f"---\n{yaml_text}---\n\n{body}\n"
    return Converted(
        markdown, title, lang, date, tuple(headings), tuple(dropped), date_note, changed
    )


def _choose_date(
    given: dt.date | None, found: _FoundDate | None, source_name: str, today: dt.date
) -> tuple[dt.date, str]:
    if given is not None:
        return given, ""
    if found is not None:
        return found.date, found.note
    if (named := _date_from_name(source_name)) is not None:
        return named, "no date in the text; taken from the file name"
    return today, "no date in the text or the file name; used today's"


def _drop_furniture(lines: list[str]) -> tuple[list[str], list[str]]:
    dropped: list[str] = []
    while lines and (not lines[-1] or lines[-1].lower() in _FURNITURE):
        if lines[-1]:
            dropped.append(lines[-1])
        lines = lines[:-1]
    return lines, dropped[::-1]


@dataclass(frozen=True)
class _FoundDate:
    date: dt.date
    note: str = ""


def _meta_lines(
    lines: list[str], source_name: str, today: dt.date
) -> tuple[str | None, _FoundDate | None, str | None, list[str]]:
    author = reading = None
    date: _FoundDate | None = None
    index = 0
    while index < len(lines) and re.match(r"^[-•·]\s*", lines[index]):
        value = re.sub(r"^[-•·]\s*", "", lines[index])
        if _READING.search(value):
            reading = value
        elif (parsed := _parse_date(value, source_name, today)) is not None:
            date = parsed
        elif author is None:
            author = value
        index += 1
    return author, date, reading, lines[index:]


def _parse_date(value: str, source_name: str, today: dt.date) -> _FoundDate | None:
    if match := _ISO_DATE.fullmatch(value):
        return _found(int(match[1]), int(match[2]), int(match[3]))
    if match := _ZH_DATE.match(value):
        year, month, day = match[1], int(match[2]), int(match[3])
    elif (match := _EN_DATE.match(value)) and (match[2] or match[3])[:3].lower() in _EN_MONTHS:
        day_text, month_name = (match[1], match[2]) if match[1] else (match[4], match[3])
        year, month, day = match[5], _EN_MONTHS.index(month_name[:3].lower()) + 1, int(day_text)
    else:
        return None
    if year:
        return _found(int(year), month, day)
    return _complete_year(value, month, day, source_name, today)


def _found(year: int, month: int, day: int, note: str = "") -> _FoundDate | None:
    date = _date(year, month, day)
    return _FoundDate(date, note) if date else None


def _complete_year(
    value: str, month: int, day: int, source_name: str, today: dt.date
) -> _FoundDate | None:
    """A blog's "9月4日" has no year: the file name's year, else the one nearest today, said aloud."""
    if (named := _date_from_name(source_name)) is not None:
        return _found(
            named.year, month, day, f"{value!r} has no year; took {named.year} from the file name"
        )
    candidates = [
        d for year in (today.year - 1, today.year, today.year + 1) if (d := _date(year, month, day))
    ]
    if not candidates:
        return None
    nearest = min(candidates, key=lambda d: abs((d - today).days))
    return _FoundDate(
        nearest, f"{value!r} has no year; assumed {nearest.year}, the nearest to today"
    )


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _date_from_name(name: str) -> dt.date | None:
    match = _ISO_DATE.search(name)
    return _date(int(match[1]), int(match[2]), int(match[3])) if match else None


def _detect_lang(text: str) -> str:
    words, cjk = count_text(text)
    return "zh-Hant" if cjk > words else "en"


def _is_heading(line: str, following: str | None) -> bool:
    return (
        following is not None
        and display_width(line) <= HEADING_MAX_WIDTH
        and not line.endswith(_CLOSING)
        and not _NOTE.match(line)
    )


def _body(lines: list[str]) -> tuple[str, list[str]]:
    blocks: list[str] = []
    headings: list[str] = []
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else None
        if index > 0 and _is_heading(line, following):
            headings.append(line)
            blocks.append(f"## {_escape(line)}")
        elif following is None and _NOTE.match(line):
            blocks.append(f"::: note\n{_escape(line)}\n:::")
        else:
            blocks.append(_escape(line))
    return "\n\n".join(blocks), headings


def _escape(line: str) -> str:
    """Keep pasted text literal: characters Markdown would read as markup are backslashed."""
    line = _MD_SPECIAL.sub(r"\\\1", line)
    return _MD_LINE_START.sub(_escape_marker, line)


def _escape_marker(match: re.Match[str]) -> str:
    marker = match[2]
    if marker[0].isdigit():  # "1." starts a list; "1\." does not
        return match[1] + marker[:-1] + "\\" + marker[-1]
    return match[1] + "\\" + marker
