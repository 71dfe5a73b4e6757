"""Every stored row passed one model: bad cells are rejected with their line, the list stays usable."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from newsletter.audience.export import COLUMNS, write_csv
from newsletter.audience.importer import import_file
from newsletter.audience.store import Consent, Store, SubscriberError
from tests.conftest import FIXTURES, run_cli

GOOD = {
    "email": "ok@example.com",
    "name": "Ada",
    "lang": "en",
    "tags": '["vip"]',
    "status": "subscribed",
    "source": "test",
    "created_at": "2025-01-10T09:00:00+00:00",
    "confirmed_at": "",
    "unsubscribed_at": "",
    "status_changed_at": "2025-01-10T09:00:00+00:00",
    "consent_at": "2025-01-10T09:00:00+00:00",
    "consent_method": "test",
    "consent_ip": "203.0.113.1",
    "consent_user_agent": "",
    "bounce_count": "0",
    "last_bounce_reason": "",
    "attributes": "{}",
}
BAD_CELLS = [
    ({"attributes": "[1]"}, "attributes must be a JSON object"),
    ({"attributes": "[" * 5000 + "]" * 5000}, "nested too deeply"),
    ({"tags": "5"}, "tags must be a list"),
    ({"tags": "null"}, "tags must be a list"),
    ({"tags": '[{"a": 1}]'}, "tags must be a list"),
    ({"tags": json.dumps(["x" * 101])}, "tags must be a list"),
    ({"bounce_count": str(10**23)}, "bounce_count must be a whole number"),
    ({"status_changed_at": "2099-01-01T00:00:00+00:00"}, "status_changed_at 2099-01-01"),
    ({"lang": "x" * 17}, "lang must be a language code"),
    ({"consent_ip": "1" * 65}, "consent_ip"),
    ({"name": "名" * 201}, "name is 201 characters"),
]


def own_export(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(("cells", "reason"), BAD_CELLS, ids=[r for _, r in BAD_CELLS])
def test_a_bad_cell_in_our_own_export_rejects_that_row_only(
    store: Store, tmp_path: Path, cells: dict[str, str], reason: str
) -> None:
    bad = {**GOOD, **cells, "email": "bad@example.com"}
    report = import_file(store, own_export(tmp_path, [GOOD, bad]))
    assert [s.email for s in store.find()] == ["ok@example.com"]
    assert sum(report.rejected.values()) == 1
    with report.rejects_file.open(encoding="utf-8-sig", newline="") as handle:
        (_, rejected) = list(csv.reader(handle))
    assert rejected[1] == "3" and reason in rejected[2], rejected[2]
    out = io.StringIO()
    write_csv(store, out)  # the list still exports
    assert "ok@example.com" in out.getvalue()


def test_addresses_in_our_own_export_are_normalised_like_any_other(
    store: Store, tmp_path: Path
) -> None:
    rows = [{**GOOD, "email": " n4@Example.COM "}, {**GOOD, "email": "N3@BÜCHER.example"}]
    import_file(store, own_export(tmp_path, rows))
    assert sorted(s.email for s in store.find()) == ["N3@xn--bcher-kva.example", "n4@example.com"]


def test_long_mailchimp_fields_are_rejected_on_either_database(
    store: Store, tmp_path: Path
) -> None:
    source = (FIXTURES / "subscribers" / "subscribed_members_export_5f1a.csv").read_text("utf-8")
    header, first, *_ = source.splitlines()
    cells = next(csv.reader([first]))
    cells[header.split(",").index("OPTIN_IP")] = "9" * 65
    cells[header.split(",").index("CONFIRM_IP")] = ""
    path = tmp_path / "subscribed_members_export_5f1a.csv"
    out = io.StringIO()
    csv.writer(out).writerows([header.split(","), cells])
    path.write_text(out.getvalue(), "utf-8")
    report = import_file(store, path)
    assert store.count() == 0 and sum(report.rejected.values()) == 1


def test_add_refuses_what_no_row_may_hold(store: Store) -> None:
    with pytest.raises(SubscriberError, match="lang must be a language code"):
        store.add("ada@example.com", lang="x" * 17, consent=Consent("t"))
    with pytest.raises(SubscriberError, match="tags must be a list"):
        store.add("ada@example.com", tag_names=["t" * 101])
    with pytest.raises(SubscriberError, match="tags must be a list"):
        store.tag(["ada@example.com"], "t" * 101)
    assert store.count() == 0


def test_after_a_hostile_import_every_command_still_works(project: Path, tmp_path: Path) -> None:
    rows = [
        GOOD,
        *(
            {**GOOD, **cells, "email": f"bad{n}@example.com"}
            for n, (cells, _) in enumerate(BAD_CELLS)
        ),
    ]
    imported = run_cli("subscribers", "import", str(own_export(tmp_path, rows)), cwd=project)
    assert imported.returncode == 0, imported.stderr
    for args in (
        ["subscribers", "list"],
        ["subscribers", "show", "ok@example.com"],
        ["subscribers", "export", "out.csv"],
        ["send", str(FIXTURES / "articles" / "english.md"), "--dry-run"],
    ):
        result = run_cli(*args, cwd=project)
        assert result.returncode == 0 and "Traceback" not in result.stderr, (args, result.stderr)


def test_an_address_we_cannot_send_to_is_rejected_on_import_and_add(
    store: Store, tmp_path: Path
) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email\nok@example.com\n用户@example.com\n", "utf-8")
    report = import_file(store, people, consent_text="test")
    assert [s.email for s in store.find()] == ["ok@example.com"]
    with report.rejects_file.open(encoding="utf-8-sig", newline="") as handle:
        (_, rejected) = list(csv.reader(handle))
    assert rejected[1] == "3" and "SMTPUTF8" in rejected[2]
    with pytest.raises(SubscriberError, match="SMTPUTF8"):
        store.add("用户@example.com")
