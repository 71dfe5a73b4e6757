"""Files built to hurt: each hits a stated limit or is refused in one line, and nothing is stored."""

from __future__ import annotations

import resource
import zipfile
from pathlib import Path

import pytest

from newsletter.audience.csvsource import MAX_LINE, CsvImportError
from newsletter.audience.importer import import_file
from newsletter.audience.store import Store
from tests.cli.test_compose import assert_one_line_error
from tests.conftest import run_cli

ROWS = "email,name\nada@example.com,Ada\nbob@example.org,Bob\n"


def refused(store: Store, path: Path, *words: str, encoding: str | None = None) -> None:
    with pytest.raises(CsvImportError) as caught:
        import_file(store, path, consent_text="test", encoding=encoding)
    message = str(caught.value)
    assert "\n" not in message and all(word in message for word in words), message
    assert store.count() == 0


def zipped(tmp_path: Path, data: bytes, method: int = zipfile.ZIP_DEFLATED) -> Path:
    path = tmp_path / "audience_export.zip"
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        archive.writestr("subscribed_members_export_1.csv", data)
    return path


def patched(path: Path, signature: bytes, offset: int, value: bytes) -> None:
    """Overwrite a field of every ZIP header with this signature (local or central)."""
    data = bytearray(path.read_bytes())
    at = data.find(signature)
    while at >= 0:
        data[at + offset : at + offset + len(value)] = value
        at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def test_a_zip_bomb_is_refused_before_it_is_unpacked(store: Store, tmp_path: Path) -> None:
    bomb = zipped(tmp_path, b"email\n" + b"a" * (64 << 20))
    assert bomb.stat().st_size < 200_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    refused(store, bomb, "subscribed_members_export_1.csv", "compressed", "to one", "ZIP bomb")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 32 << 10  # KiB


def test_an_endless_line_stops_at_the_line_limit(store: Store, tmp_path: Path) -> None:
    long = tmp_path / "people.csv"
    long.write_bytes(b"email," + b"x" * (20 << 20) + b"\nada@example.com\n")
    refused(store, long, "people.csv:1:", "line is longer than", f"{MAX_LINE:,}")


def test_an_encrypted_member_is_named(store: Store, tmp_path: Path) -> None:
    archive = zipped(tmp_path, ROWS.encode())
    patched(archive, b"PK\x01\x02", 8, b"\x01")
    refused(store, archive, "is encrypted")


def test_an_unknown_compression_is_named(store: Store, tmp_path: Path) -> None:
    archive = zipped(tmp_path, ROWS.encode())
    patched(archive, b"PK\x01\x02", 10, b"\x09\x00")  # Deflate64
    refused(store, archive, "compression")


def test_a_damaged_member_is_named(store: Store, tmp_path: Path) -> None:
    archive = zipped(tmp_path, ROWS.encode(), method=zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    at = data.find(b"ada@example.com")
    data[at] = ord("b")
    archive.write_bytes(bytes(data))
    refused(store, archive, "cannot be unpacked", "CRC")


@pytest.mark.parametrize("encoding", ["base64", "rot13", "hex", "zlib", "bz2", "uu"])
def test_encodings_that_are_not_text_are_refused(
    store: Store, tmp_path: Path, encoding: str
) -> None:
    people = tmp_path / "people.csv"
    people.write_text(ROWS, "utf-8")
    refused(store, people, "unknown text encoding", encoding=encoding)


@pytest.mark.parametrize("encoding", ["idna", "punycode"])
def test_encodings_of_host_names_are_refused(store: Store, tmp_path: Path, encoding: str) -> None:
    people = tmp_path / "people.csv"
    people.write_text(ROWS, "utf-8")
    refused(store, people, "not an encoding of files", encoding=encoding)


def test_utf32_named_for_a_utf8_file_is_explained(store: Store, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text(ROWS, "utf-8")
    refused(store, people, "not utf-32 text", "--encoding", encoding="utf-32")


def test_utf16_with_a_cut_last_character_is_explained(store: Store, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_bytes(ROWS.encode("utf-16") + b"\x00")
    refused(store, people, "not utf-16 text", "--encoding")


def test_utf16_without_its_byte_order_mark_is_told_which_encoding(
    store: Store, tmp_path: Path
) -> None:
    people = tmp_path / "people.csv"
    people.write_bytes(ROWS.encode("utf-16-le"))
    refused(store, people, "--encoding utf-16-le")
    assert import_file(store, people, consent_text="test", encoding="utf-16-le").added == 2


def test_the_cli_says_it_in_one_line(project: Path, tmp_path: Path) -> None:
    bomb = zipped(tmp_path, b"email\n" + b"a" * (8 << 20))
    assert_one_line_error(run_cli("subscribers", "import", str(bomb), cwd=project), "ZIP bomb")
