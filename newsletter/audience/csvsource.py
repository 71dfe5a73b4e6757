"""Read subscriber files as streams of rows: CSV or a ZIP of CSVs, any common encoding.

Encodings: UTF-8 with or without BOM, UTF-16 (what Excel saves as "Unicode text", found by
its BOM), or what --encoding names (Big5 is common in Hong Kong and Taiwan). The delimiter is
whichever of comma, semicolon and tab the header line uses most. Rows are yielded one by one
with their line numbers; nothing holds the whole file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from newsletter.errors import NewsletterError

__all__ = ["CsvImportError", "Sheet", "open_sheets"]

DELIMITERS = (",", ";", "\t")
_UNDECODED = re.compile("[\udc80-\udcff]")
csv.field_size_limit(1 << 24)


class CsvImportError(NewsletterError):
    """The file as a whole cannot be read; no row was imported."""


@dataclass
class Sheet:
    """One CSV table: its name (file or ZIP member), header, and a one-pass row stream."""

    name: str
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    delimiter: str


Progress = Callable[[int], None]


@contextmanager
def open_sheets(
    path: Path, *, encoding: str | None = None, progress: Progress | None = None
) -> Iterator[Iterator[Sheet]]:
    """Yield the sheets of a CSV file or of every .csv inside a ZIP, in name order."""
    if not path.is_file():
        raise CsvImportError("file not found; check the path", path=path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = sorted(
                n
                for n in archive.namelist()
                if n.lower().endswith(".csv") and not n.startswith("__MACOSX")
            )
            if not names:
                raise CsvImportError("the ZIP holds no .csv file", path=path)
            yield (
                _sheet(archive.open(name), f"{path.name}/{name}", path, encoding, None)
                for name in names
            )
    else:
        with path.open("rb") as handle:
            yield iter([_sheet(handle, path.name, path, encoding, progress)])


def _sheet(
    binary: IO[bytes], name: str, path: Path, encoding: str | None, progress: Progress | None
) -> Sheet:
    head = binary.read(4)
    chosen = encoding or _encoding_from_bom(head)
    try:
        codecs.lookup(chosen)
    except LookupError:
        raise CsvImportError(
            f"unknown encoding {chosen!r}; try utf-8, utf-16 or big5", path=path
        ) from None
    binary.seek(0)
    # surrogateescape keeps undecodable bytes as markers, so the error names the exact row
    text = io.TextIOWrapper(
        io.BufferedReader(_Counting(binary, progress)),
        encoding=chosen,
        newline="",
        errors="surrogateescape",
    )
    first = _first_line(text, path, chosen)
    delimiter = max(DELIMITERS, key=first.count) if any(d in first for d in DELIMITERS) else ","
    reader = csv.reader(_chain(first, text), delimiter=delimiter)
    header = next(reader, [])
    header = [h.strip().lstrip("\ufeff") for h in header]
    return Sheet(name, header, _numbered(reader, path, chosen), delimiter)


def _encoding_from_bom(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def _first_line(text: io.TextIOWrapper, path: Path, encoding: str) -> str:
    line = text.readline()
    if _UNDECODED.search(line):
        raise _decode_error(path, 1, encoding)
    return line


def _numbered(reader: csv.reader, path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
    line = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvImportError(
                f"the CSV cannot be parsed ({exc}); check its quoting",
                path=path,
                line=reader.line_num,
            ) from None
        start, line = line + 1, reader.line_num
        joined = "".join(row)
        if not joined.isascii() and _UNDECODED.search(joined):
            raise _decode_error(path, start, encoding)
        if joined.strip():
            yield start, row


def _decode_error(path: Path, line: int, encoding: str) -> CsvImportError:
    return CsvImportError(
        f"the bytes are not {encoding} text; name the file's encoding with --encoding "
        "(big5 for most Hong Kong and Taiwan files, utf-16 for Excel's Unicode text)",
        path=path,
        line=line,
    )


def _chain(first: str, rest: io.TextIOWrapper) -> Iterator[str]:
    yield first
    yield from rest


class _Counting(io.RawIOBase):
    """Passes bytes through, reporting how many were read (for the progress bar)."""

    def __init__(self, inner: IO[bytes], progress: Progress | None):
        self._inner = inner
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        if self._progress is not None and data:
            self._progress(len(data))
        return len(data)
