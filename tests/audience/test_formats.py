"""Reading a row of any known list format: which format a header means and what a cell says."""

from __future__ import annotations

import pytest

from newsletter.audience.csvsource import CsvImportError
from newsletter.audience.formats import RejectedRow, detect, parse_tags
from newsletter.audience.models import Status


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (["Email Address", "First Name", "Last Name", "MEMBER_RATING", "OPTIN_TIME", "LEID"], "mailchimp-subscribed"),
        (["uuid", "email", "name", "attributes", "status"], "listmonk"),
        (["電郵", "姓名", "語言"], "generic"),
        (["ada@example.com"], "generic"),
    ],
)  # fmt: skip
def test_the_header_says_which_format_a_sheet_is(header: list[str], kind: str) -> None:
    assert detect("subscribed_members_export.csv", header, {}).kind == kind


def test_a_header_without_an_email_column_says_how_to_map_one() -> None:
    with pytest.raises(CsvImportError, match="--map 'COLUMN=email'"):
        detect("list.csv", ["who", "where"], {})


def test_a_chinese_family_and_given_name_join_without_a_space() -> None:
    fmt = detect("list.csv", ["email", "first name", "last name", "language"], {})
    row = fmt.candidate(2, ["chan@example.com", "大文", "陳", "zh-HK"], consent=None)
    assert row.name == "陳大文"
    assert row.lang == "zh-Hant"
    western = fmt.candidate(3, ["ada@example.com", "Ada", "Lovelace", ""], consent=None)
    assert western.name == "Ada Lovelace" and western.lang is None


def test_a_plain_list_reads_its_first_line_as_a_reader_too() -> None:
    fmt = detect("list.txt", ["ada@example.com"], {})
    assert fmt.header_is_data
    assert fmt.candidate(1, ["Ada@Example.COM "], consent=None).address.email == "Ada@example.com"


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        (["", "Ada"], "missing email"),
        (["not an address", "Ada"], "invalid address"),
        (["ada@example.com"], "wrong column count"),
    ],
)
def test_a_row_that_cannot_be_a_reader_is_rejected_with_its_reason(
    cells: list[str], reason: str
) -> None:
    fmt = detect("list.csv", ["email", "name"], {})
    with pytest.raises(RejectedRow, match=reason):
        fmt.candidate(2, cells, consent=None)


@pytest.mark.parametrize(
    ("cell", "tags"),
    [
        ('"Health","香港"', ("Health", "香港")),
        ("a, b, a", ("a", "b")),
        ("a; b", ("a", "b")),
        ('["x", "y"]', ("x", "y")),
        ("[not json", ("[not json",)),
        ("", ()),
    ],
)
def test_tags_are_read_in_every_way_lists_write_them(cell: str, tags: tuple[str, ...]) -> None:
    assert parse_tags(cell) == tags


def test_a_mapped_column_becomes_the_field_or_attribute_it_names() -> None:
    fmt = detect("list.csv", ["Correo", "Plan"], {"Correo": "email", "Plan": "attr:plan"})
    row = fmt.candidate(2, ["ana@example.com", "pro"], consent=None)
    assert row.address.email == "ana@example.com" and row.attributes == {"plan": "pro"}
    assert row.status is Status.PENDING


def test_a_tags_cell_with_a_quote_and_a_line_break_is_read_not_a_crash() -> None:
    """Found by the import properties: csv refused the cell ("new-line character seen")."""
    assert parse_tags('0"\n0') == ("0",)
    assert parse_tags('"Health"\n"香港"') == ("Health", "香港")
