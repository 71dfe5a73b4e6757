"""Read subscriber files as streams of rows: CSV or a ZIP of CSVs, any common encoding.

Encodings: UTF-8 with or without BOM, UTF-16 (what Excel saves as "Unicode text", found by
its BOM), or what --encoding names (Big5 is common in Hong Kong and Taiwan). The delimiter is
whichever of comma, semicolon and tab the header line uses most. Rows are yielded one by one
with their line numbers; nothing holds the whole file.

Hostile files hit stated limits, each named when it is hit: a line of MAX_LINE characters, a
ZIP member of MAX_UNCOMPRESSED bytes or compressed more than MAX_RATIO to one (a ZIP bomb),
and ZIP members that are encrypted, damaged or compressed in a way Python cannot read.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from newsletter.errors import NewsletterError, one_line

if TYPE_CHECKING:
    import _csv

__all__ = ["CsvImportError", "Sheet", "open_sheets"]

DELIMITERS = (",", ";", "\t")
MAX_LINE = 1 << 20
"""Characters in one line of a file: a subscriber row is a few hundred; a megabyte is an attack."""
MAX_UNCOMPRESSED = 1 << 30
"""Bytes in one ZIP member: a million subscribers export to about 300 MB."""
MAX_RATIO = 100
"""CSV compresses about ten to one; a hundred to one over a megabyte is a ZIP bomb."""
NOT_FOR_FILES = frozenset({"idna", "punycode", "raw-unicode-escape", "unicode-escape", "undefined"})
_UNDECODED = re.compile("[\udc80-\udcff]")
csv.field_size_limit(MAX_LINE)


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
    if path.is_dir():
        raise CsvImportError("is a folder; give the CSV or ZIP file to import", path=path)
    if not path.is_file():
        raise CsvImportError("file not found; check the path", path=path)
    if encoding is not None:
        _require_text_encoding(encoding, path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = sorted(
                (m for m in archive.infolist() if _is_csv(m.filename)), key=lambda m: m.filename
            )
            if not members:
                raise CsvImportError("the ZIP holds no .csv file", path=path)
            for member in members:
                _check_member(member, path)
            opened: list[IO[bytes]] = []

            def sheets() -> Iterator[Sheet]:
                for member in members:
                    where = f"{path.name}/{member.filename}"
                    opened.append(archive.open(member))
                    yield _sheet(_Guarded(opened[-1], where, path), where, path, encoding, None)

            try:
                yield sheets()
            finally:  # closed here even when an error keeps a reference to a member's stream
                for stream in opened:
                    stream.close()
    else:
        with path.open("rb") as handle:
            yield iter([_sheet(handle, path.name, path, encoding, progress)])


def _is_csv(name: str) -> bool:
    return name.lower().endswith(".csv") and not name.startswith("__MACOSX")


def _check_member(member: zipfile.ZipInfo, path: Path) -> None:
    """Refuse, before reading a byte, what would be unreadable or too big once unpacked."""
    where = f"{path.name}/{member.filename}"
    if member.flag_bits & 0x1:
        raise CsvImportError(f"{where} is encrypted; export it again without a password", path=path)
    if member.compress_type not in (
        zipfile.ZIP_STORED,
        zipfile.ZIP_DEFLATED,
        zipfile.ZIP_BZIP2,
        zipfile.ZIP_LZMA,
    ):
        raise CsvImportError(
            f"{where} uses a compression this reader does not know; zip it again with deflate",
            path=path,
        )
    if member.file_size > MAX_UNCOMPRESSED:
        raise CsvImportError(
            f"{where} unpacks to {member.file_size:,} bytes, over the limit of "
            f"{MAX_UNCOMPRESSED:,}; split the list",
            path=path,
        )
    if member.file_size > 1 << 20 and member.file_size > MAX_RATIO * max(member.compress_size, 1):
        raise CsvImportError(
            f"{where} is compressed {member.file_size // max(member.compress_size, 1):,} to one, "
            f"over the limit of {MAX_RATIO} (a ZIP bomb?); this is not a subscriber export",
            path=path,
        )


def _require_text_encoding(encoding: str, path: Path) -> None:
    """Only encodings of text: base64, rot13, zlib and the like are not files of addresses."""
    try:
        name = codecs.lookup(encoding).name
        "a".encode(name)
    except LookupError:
        raise CsvImportError(
            f"unknown text encoding {encoding!r}; try utf-8, utf-16 or big5", path=path
        ) from None
    if name in NOT_FOR_FILES:
        raise CsvImportError(
            f"{encoding!r} is not an encoding of files; try utf-8, utf-16 or big5", path=path
        )


def _sheet(
    binary: IO[bytes] | io.RawIOBase,
    name: str,
    path: Path,
    encoding: str | None,
    progress: Progress | None,
) -> Sheet:
    head = binary.read(4)
    chosen = encoding or _encoding_from_bom(head)
    if encoding is None and len(head) == 4 and head[1] == head[3] == 0 and head[0] and head[2]:
        raise CsvImportError(
            "this looks like UTF-16 without a byte order mark; name it with --encoding utf-16-le",
            path=path,
        )
    binary.seek(0)
    # surrogateescape keeps undecodable bytes as markers, so the error names the exact row
    text = io.TextIOWrapper(
        io.BufferedReader(_Counting(binary, progress)),
        encoding=chosen,
        newline="",
        errors="surrogateescape",
    )
    lines = _lines(text, path, chosen)
    first = next(lines, "")
    if _UNDECODED.search(first):
        raise _decode_error(path, 1, chosen)
    delimiter = max(DELIMITERS, key=first.count) if any(d in first for d in DELIMITERS) else ","
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
    header = next(reader, [])
    header = [h.strip().lstrip("\ufeff") for h in header]
    return Sheet(name, header, _numbered(reader, path, chosen), delimiter)


def _encoding_from_bom(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def _lines(text: io.TextIOWrapper, path: Path, encoding: str) -> Iterator[str]:
    """The file's lines, each read with a limit: one endless line never fills the memory."""
    number = 0
    while True:
        try:
            line = text.readline(MAX_LINE + 1)
        except UnicodeError as exc:  # beyond surrogateescape: utf-32 on UTF-8, a cut UTF-16
            reason = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
            raise CsvImportError(
                f"the bytes are not {encoding} text ({reason}); name the file's encoding "
                "with --encoding (utf-8, utf-16, big5)",
                path=path,
                line=number + 1,
            ) from None
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE:
            raise CsvImportError(
                f"this line is longer than {MAX_LINE:,} characters, the limit for one row; "
                "this is not a subscriber list",
                path=path,
                line=number,
            )
        yield line


def _numbered(reader: _csv.Reader, path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
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


class _Guarded(io.RawIOBase):
    """A ZIP member's bytes, with what zipfile raises mid-read (a bad CRC, a cut archive) as one line."""

    def __init__(self, inner: IO[bytes], where: str, path: Path):
        self._inner, self._where, self._path = inner, where, path

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._inner.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._inner.seek(offset, whence)

    def close(self) -> None:
        self._inner.close()
        super().close()

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except (zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError, OSError) as exc:
            raise CsvImportError(
                f"{self._where} cannot be unpacked ({one_line(str(exc))}); export the list again",
                path=self._path,
            ) from None
        buffer[: len(data)] = data
        return len(data)


class _Counting(io.RawIOBase):
    """Passes bytes through, reporting how many were read (for the progress bar)."""

    def __init__(self, inner: IO[bytes] | io.RawIOBase, progress: Progress | None):
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
