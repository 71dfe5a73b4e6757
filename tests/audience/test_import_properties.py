"""Generated rows in every import format: never a traceback, never a stored row that breaks later.

Whatever the cells hold (JSON of any shape, huge numbers, control characters, CJK, formulas,
future dates, addresses no server takes), an import either stores the row, rejects it with a
reason, or refuses the whole file in one line; and afterwards listing, exporting and a dry
run of a send work for every stored row.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.audience.csvsource import CsvImportError
from newsletter.audience.export import COLUMNS, write_csv
from newsletter.audience.importer import import_file
from newsletter.audience.models import Filters, Status
from newsletter.audience.store import Store
from newsletter.delivery.runner import rehearse
from newsletter.providers.dryrun import DryRunProvider
from newsletter.render.mime import MessageBuilder
from tests.delivery.helpers import rendered, repo_settings

_cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "", "null", "5", "[1]", "[{\"a\": 1}]", "{}", '{"first_name": "Ada"}', "[" * 3000,
            str(10**23), "-1", "2099-01-01T00:00:00+00:00", "2020-01-01T00:00:00+00:00",
            "=HYPERLINK(\"x\")", "用户@example.com", " N@Example.COM ", "x" * 300, "zh-Hant",
            "subscribed", "unsubscribed", "blocklisted", "203.0.113.7", "9" * 70,
        ]
    ),
)  # fmt: skip
_email = st.one_of(
    st.builds(lambda n: f"reader{n}@example.org", st.integers(0, 50)),
    st.sampled_from(["用户@example.com", "not-an-address", "", " N@Example.COM "]),
)
FORMATS = {
    "own export": (list(COLUMNS), "export.csv"),
    "mailchimp": (
        ["Email Address", "First Name", "Last Name", "OPTIN_TIME", "OPTIN_IP", "TAGS", "LEID"],
        "subscribed_members_export_1.csv",
    ),
    "listmonk": (["email", "name", "attributes", "status"], "listmonk.csv"),
    "plain": (["email", "name", "lang", "tags"], "people.csv"),
}


@st.composite
def sheets(draw: st.DrawFn) -> tuple[str, str]:
    kind = draw(st.sampled_from(sorted(FORMATS)))
    header, name = FORMATS[kind]
    rows = draw(
        st.lists(
            st.tuples(_email, st.lists(_cell, min_size=len(header) - 1, max_size=len(header) - 1)),
            min_size=1,
            max_size=8,
        )
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for email, cells in rows:
        if kind == "own export":
            cells = [*cells[:3], "subscribed" if cells[3] == "" else cells[3], *cells[4:]]
        writer.writerow([email, *cells])
    return name, out.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheet=sheets())
def test_any_import_leaves_a_list_every_command_can_use(sheet: tuple[str, str]) -> None:
    name, text = sheet
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text, "utf-8")
        store = Store.open(f"sqlite:///{Path(folder) / 'subscribers.db'}")
        try:
            try:
                import_file(store, path, consent_text="generated")
            except CsvImportError:
                return  # the whole file refused in one line: nothing stored
            stored = store.find()
            out = io.StringIO()
            assert write_csv(store, out) == len(stored)
            for person in stored:
                json.dumps(person.attributes)
                assert all(isinstance(tag, str) for tag in person.tags)
            _dry_run(store, Path(folder))
        finally:
            store.close()


def _dry_run(store: Store, folder: Path) -> None:
    _, issue = rendered()
    builder = MessageBuilder(issue, repo_settings(), campaign="property")
    outbox = DryRunProvider(builder, folder / "outbox")
    summary = rehearse(store, Filters(), outbox, builder)
    outbox.close()
    assert summary.sent == store.count(Filters(status=Status.SUBSCRIBED))
    assert summary.failed == 0
