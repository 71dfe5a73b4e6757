"""Export: every field, spreadsheet-safe, and an import of it reproduces the list exactly."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
from dataclasses import asdict
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Text, type_coerce, update

from newsletter.audience.export import COLUMNS, escape_cell, write_csv
from newsletter.audience.importer import import_file
from newsletter.audience.models import Status
from newsletter.audience.queries import insert_subscriber, set_tags
from newsletter.audience.store import Consent, Store
from newsletter.db.schema import subscribers


def exported(store: Store) -> str:
    out = io.StringIO()
    write_csv(store, out)
    return out.getvalue()


def test_cells_a_spreadsheet_would_run_are_neutralised(store: Store) -> None:
    store.add(
        "eve@example.com",
        name='=HYPERLINK("https://evil.example.net")',
        consent=Consent("+cmd|' /C calc'!A0"),
    )
    store.add("tab@example.com", name="\tindent", tag_names=["@tag"])
    rows = list(csv.reader(io.StringIO(exported(store))))
    assert rows[0] == list(COLUMNS)
    eve = dict(zip(COLUMNS, rows[1], strict=True))
    assert eve["name"] == '\'=HYPERLINK("https://evil.example.net")'
    assert eve["consent_method"] == "'+cmd|' /C calc'!A0"
    tab = dict(zip(COLUMNS, rows[2], strict=True))
    assert tab["name"] == "'\tindent" and tab["tags"] == '["@tag"]'
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


def test_export_then_import_into_an_empty_store_reproduces_the_sample(
    store: Store, tmp_path: Path
) -> None:
    store.add(
        "ada@example.com",
        name="Ada Lovelace",
        lang="en",
        tag_names=["vip", "en"],
        consent=Consent("cli"),
    )
    store.add("chan@example.net", name="陳大文", lang="zh-Hant")
    store.unsubscribe("ada@example.com", reason="one-click")
    path = tmp_path / "export.csv"
    path.write_text(exported(store), encoding="utf-8")
    copy = Store.open(f"sqlite:///{tmp_path / 'copy.db'}")
    report = import_file(copy, path)
    assert report.sheets == [("export.csv", "newsletter export")] and report.added == 2
    assert snapshot(copy) == snapshot(store)
    copy.close()


def snapshot(store: Store) -> list[dict]:
    return [{k: v for k, v in asdict(s).items() if k != "id"} for s in store.find()]


_text = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), include_characters="\t\r\n"), max_size=12
)
_when = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2025, 1, 1), timezones=st.just(dt.UTC)
)
_subscriber = st.fixed_dictionaries(
    {
        "name": st.none() | _text.filter(lambda s: s != ""),
        "lang": st.none() | st.sampled_from(["en", "zh-Hant"]),
        "status": st.sampled_from(list(Status)),
        "tags": st.lists(
            st.text("abc=+-@'中文 ", min_size=1, max_size=6).map(str.strip).filter(bool), max_size=3
        ),
        "attributes": st.dictionaries(
            st.text("abcxyz", min_size=1, max_size=4), _text | st.integers(), max_size=3
        ),
        "created_at": _when,
        "confirmed_at": st.none() | _when,
        "consent_method": st.none() | _text.filter(lambda s: s != ""),
        "bounce_count": st.integers(0, 9),
    }
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(people=st.lists(_subscriber, min_size=1, max_size=6))
def test_any_list_survives_an_export_import_round_trip(people: list[dict]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = Store.open(f"sqlite:///{Path(folder) / 'a.db'}")
        with source.write() as conn:
            for n, person in enumerate(people):
                tags = person.pop("tags")
                row = {
                    **person,
                    "email": f"Person.{n}@Example.com".replace("@Example.com", "@example.com"),
                    "email_key": f"person.{n}@example.com",
                    "status_changed_at": person["created_at"],
                }
                set_tags(conn, insert_subscriber(conn, row), tags)
        path = Path(folder) / "export.csv"
        path.write_text(exported(source), encoding="utf-8")
        target = Store.open(f"sqlite:///{Path(folder) / 'b.db'}")
        import_file(target, path)
        assert snapshot(target) == snapshot(source)
        source.close()
        target.close()


def model_rendering(store: Store) -> str:
    """The export as the Subscriber models read: what the stream of stored text must equal."""

    def time(value: dt.datetime | None) -> str:
        return "" if value is None else value.isoformat(timespec="microseconds")

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for s in store.iter_all():
        cells = (
            s.email, s.name or "", s.lang or "",
            json.dumps(list(s.tags), ensure_ascii=False) if s.tags else "[]",
            s.status.value, s.source or "", time(s.created_at), time(s.confirmed_at),
            time(s.unsubscribed_at), time(s.status_changed_at), time(s.consent_at),
            s.consent_method or "", s.consent_ip or "", s.consent_user_agent or "",
            str(s.bounce_count), s.last_bounce_reason or "",
            json.dumps(s.attributes, ensure_ascii=False, sort_keys=True) if s.attributes else "{}",
        )  # fmt: skip
        writer.writerow([escape_cell(cell) for cell in cells])
    return out.getvalue()


def test_the_streamed_export_is_byte_for_byte_what_the_stored_subscribers_say(
    store: Store,
) -> None:
    store.add("ada@example.com", name="Ada Lovelace", lang="en", tag_names=["vip", "ai"])
    store.add("chan@example.net", name="陳大文", lang="zh-Hant", consent=Consent("=cli"))
    store.add("-dash@example.org", name="+plus", tag_names=["中文"])
    store.unsubscribe("ada@example.com", reason="one-click")
    with store.write() as conn:  # attributes from an import; a time written by hand
        conn.execute(
            update(subscribers)
            .where(subscribers.c.email == "chan@example.net")
            .values(attributes={"城市": "香港", "b": 2, "a": [1, "é"]})
        )
        conn.execute(
            update(subscribers)
            .where(subscribers.c.email == "-dash@example.org")
            .values(confirmed_at=type_coerce("2025-09-05 08:00:00+08:00", Text))
        )
    text = exported(store)
    assert text == model_rendering(store)
    assert "2025-09-05T08:00:00.000000+08:00" in text
    assert '{"a": [1, "é"], "b": 2, "城市": "香港"}' in next(
        csv.reader(io.StringIO(text.splitlines()[2]))
    )
