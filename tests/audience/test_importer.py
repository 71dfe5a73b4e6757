"""Importing real export formats: nobody doubled, nobody resurrected, bad rows explained."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from newsletter.audience.csvsource import CsvImportError
from newsletter.audience.importer import import_file
from newsletter.audience.models import Status
from newsletter.audience.store import Consent, Store
from tests.conftest import FIXTURES, REPO

FILES = FIXTURES / "subscribers"
MAILCHIMP_CSVS = [
    "subscribed_members_export_5f1a.csv",
    "unsubscribed_members_export_5f1a.csv",
    "cleaned_members_export_5f1a.csv",
]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A private copy, so reject files land beside the inputs in the test's folder."""
    folder = tmp_path / "in"
    shutil.copytree(FILES, folder)
    return folder


def statuses(store: Store) -> dict[str, Status]:
    return {s.email: s.status for s in store.find()}


def test_a_mailchimp_zip_keeps_each_members_status(store: Store, files: Path) -> None:
    report = import_file(store, files / "mailchimp_audience_export_5f1a.zip")
    assert [fmt for _, fmt in report.sheets] == [
        "Mailchimp cleaned export",
        "Mailchimp subscribed export",
        "Mailchimp unsubscribed export",
    ]
    assert (report.added, report.rejected.total()) == (5, 0)
    assert statuses(store) == {
        "c5@example.com": Status.BOUNCED,
        "s5@example.com": Status.SUBSCRIBED,
        "Mei.Chan@example.org": Status.SUBSCRIBED,
        "kept@example.net": Status.SUBSCRIBED,
        "u1@example.com": Status.UNSUBSCRIBED,
    }


def test_mailchimp_fields_become_ours(store: Store, files: Path) -> None:
    import_file(store, files / "subscribed_members_export_5f1a.csv")
    s5, mei = store.get("s5@example.com"), store.get("mei.chan@example.org")
    assert s5.name == "Dolor Simet" and s5.tags == ("Lorem Editors",)
    assert s5.attributes == {
        "Company": "Lorem Co.",
        "mailchimp_leid": "1001",
        "mailchimp_euid": "abc1",
    }
    assert s5.consent_method == "Mailchimp export: subscribed" and s5.consent_ip == "203.0.113.5"
    assert s5.consent_at.isoformat() == "2018-02-05T19:28:23+00:00"
    assert mei.name == "陳美玲" and mei.tags == ("Editors", "VIP")
    assert store.get("kept@example.net").tags == ("Editors",)


def test_unsubscribed_and_cleaned_rows_keep_their_dates_and_reasons(
    store: Store, files: Path
) -> None:
    for name in MAILCHIMP_CSVS:
        import_file(store, files / name)
    u1, c5 = store.get("u1@example.com"), store.get("c5@example.com")
    assert u1.unsubscribed_at.isoformat() == "2018-07-23T12:19:27+00:00"
    assert store.history("u1@example.com")[0].reason == "NORMAL"
    assert c5.last_bounce_reason == "cleaned by Mailchimp after Weekly 40"


def test_importing_the_same_export_twice_changes_nothing(store: Store, files: Path) -> None:
    import_file(store, files / "mailchimp_audience_export_5f1a.zip")
    again = import_file(store, files / "mailchimp_audience_export_5f1a.zip")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
    assert store.count() == 5


@pytest.mark.parametrize(
    "left", [Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED, Status.BLOCKED]
)
def test_a_file_never_resubscribes_someone_who_left(
    store: Store, files: Path, left: Status
) -> None:
    store.add("s5@example.com", consent=Consent("cli"))
    store.change_status("s5@example.com", left, actor="test", reason="left")
    report = import_file(store, files / "subscribed_members_export_5f1a.csv")
    assert report.suppressed == 1 and report.added == 2
    assert store.get("s5@example.com").status is left
    assert [e.to_status for e in store.history("s5@example.com")][-1] is left


def test_an_erased_address_stays_out(store: Store, files: Path) -> None:
    store.add("s5@example.com")
    store.erase("s5@example.com")
    report = import_file(store, files / "subscribed_members_export_5f1a.csv")
    assert report.suppressed == 1 and store.get("s5@example.com") is None


def test_an_unsubscribed_file_unsubscribes_a_current_subscriber(store: Store, files: Path) -> None:
    store.add("u1@example.com", consent=Consent("cli"))
    report = import_file(store, files / "unsubscribed_members_export_5f1a.csv")
    assert report.updated == 1 and store.get("u1@example.com").status is Status.UNSUBSCRIBED


def test_rows_without_consent_are_pending_and_consent_makes_them_subscribed(
    store: Store, files: Path
) -> None:
    report = import_file(store, files / "plain_with_header.csv")
    assert report.added == 2 and set(statuses(store).values()) == {Status.PENDING}
    again = import_file(
        store, files / "plain_with_header.csv", consent_text="signed up on the paper form, 2025-09"
    )
    assert again.updated == 2 and set(statuses(store).values()) == {Status.SUBSCRIBED}
    header1 = store.get("header1@example.com")
    assert (
        header1.consent_method
        == "import of plain_with_header.csv: signed up on the paper form, 2025-09"
    )


def test_listmonk_with_bom_and_crlf_imports_good_rows_and_explains_bad_ones(
    store: Store, files: Path
) -> None:
    report = import_file(store, files / "listmonk_bom_crlf.csv")
    assert report.sheets == [("listmonk_bom_crlf.csv", "listmonk")]
    assert report.added == 2
    assert dict(report.rejected) == {
        "invalid address": 1,
        "attributes is not valid JSON": 1,
        "wrong column count": 1,
        "missing email": 1,
    }
    assert store.get("user0@example.com").attributes == {"city": "Hong Kong", "plan": "pro"}
    assert store.get("user1@example.org").name == "王小明"
    with report.rejects_file.open(encoding="utf-8-sig", newline="") as handle:
        rejects = list(csv.reader(handle))
    assert rejects[0] == ["file", "line", "reason", "row"]
    assert [(r[1], r[2].split(":")[0]) for r in rejects[1:]] == [
        ("4", "invalid address"),
        ("5", "attributes is not valid JSON"),
        ("6", "wrong column count (expected 3, got 4)"),
        ("7", "missing email"),
    ]
    assert rejects[1][3:] == ["bad-address", "Nobody", "{}"]


def test_semicolons_and_tabs_are_detected(store: Store, files: Path) -> None:
    import_file(store, files / "listmonk_semicolon.csv")
    assert store.get("semi@example.com").name == "Semi Colon"


def test_excel_unicode_text_is_utf16_with_tabs(store: Store, files: Path) -> None:
    report = import_file(store, files / "excel_unicode.txt")
    assert report.added == 2
    bruce_lee = store.get("excel@example.com")
    assert bruce_lee.name == "李小龍" and bruce_lee.lang == "zh-Hant"


def test_big5_needs_its_encoding_named_and_then_keeps_chinese_names(
    store: Store, files: Path
) -> None:
    with pytest.raises(CsvImportError, match=r"big5_names\.csv:1: .*--encoding .*big5"):
        import_file(store, files / "big5_names.csv")
    assert store.count() == 0
    import_file(store, files / "big5_names.csv", encoding="big5")
    assert {s.name for s in store.find()} == {"王小明", "陳大文"}


def test_duplicates_in_a_file_merge_into_one_subscriber(store: Store, files: Path) -> None:
    report = import_file(store, files / "plain_no_header.csv")
    assert report.sheets == [("plain_no_header.csv", "plain list of addresses")]
    assert (report.added, report.duplicates) == (2, 1)
    assert store.count() == 2


def test_unknown_columns_need_a_map(store: Store, files: Path) -> None:
    with pytest.raises(CsvImportError, match="no email column among 'Correo', 'Nombre', 'Segment'"):
        import_file(store, files / "custom_columns.csv")
    import_file(store, files / "custom_columns.csv", mapping={"Correo": "email", "Nombre": "name"})
    ana = store.get("custom@example.com")
    assert ana.name == "Ana" and ana.attributes == {"Segment": "Madrid"}


def test_a_dry_run_reports_but_changes_nothing(store: Store, files: Path) -> None:
    report = import_file(store, files / "mailchimp_audience_export_5f1a.zip", dry_run=True)
    assert report.added == 5 and report.dry_run
    assert store.count() == 0


def test_a_file_that_fails_late_leaves_the_store_as_it_was(store: Store, tmp_path: Path) -> None:
    store.add("before@example.com")
    path = tmp_path / "late.csv"
    rows = "".join(f"late{n}@example.com\n" for n in range(5000))
    path.write_bytes(b"email\n" + rows.encode() + b"broken\xff\xfe@example.com\n")
    with pytest.raises(CsvImportError, match=r"late\.csv:5002:"):
        import_file(store, path)
    assert [s.email for s in store.find()] == ["before@example.com"]


def test_the_bundled_sample_list_imports_with_every_status_and_its_languages(store: Store) -> None:
    report = import_file(store, REPO / "subscribers" / "sample.csv")
    assert report.sheets == [("sample.csv", "newsletter export")]
    assert report.added == 20 and report.rejected.total() == 0
    stats = store.stats()
    assert set(stats.by_status) == {s.value for s in Status}
    assert set(stats.by_lang) == {"en", "zh-Hant", "zh-Hans"}
    domains = {s.email.rsplit("@", 1)[1] for s in store.find()}
    assert domains == {"example.com", "example.org", "example.net"}


def test_a_name_over_200_characters_is_rejected_with_its_line(store: Store, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text(
        f"email,name\nok@example.org,Ada\nlong@example.org,{'名' * 201}\n", encoding="utf-8"
    )
    report = import_file(store, people, consent_text="test")
    assert [s.email for s in store.find()] == ["ok@example.org"]
    with report.rejects_file.open(encoding="utf-8-sig", newline="") as handle:
        (_, rejected) = list(csv.reader(handle))
    assert rejected[1:3] == ["3", "name is 201 characters; at most 200"]


def test_rejected_cells_are_neutralised_like_an_export(store: Store, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text(
        'email,name\nnot-an-address,"=HYPERLINK(""https://evil.example.net"")"\n', "utf-8"
    )
    report = import_file(store, people, consent_text="test")
    with report.rejects_file.open(encoding="utf-8-sig", newline="") as handle:
        (_, rejected) = list(csv.reader(handle))
    assert rejected[3:] == ["not-an-address", '\'=HYPERLINK("https://evil.example.net")']
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".people")]
