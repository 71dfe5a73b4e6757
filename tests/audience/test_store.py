"""The subscriber store on a real database: statuses, history, erasure, migrations, two writers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from newsletter.audience.importer import import_file
from newsletter.audience.models import Filters, Status
from newsletter.audience.store import Consent, Store, SubscriberError
from newsletter.db.engine import migrate, open_engine
from newsletter.db.migrations import MIGRATIONS
from newsletter.errors import NewsletterError


def test_an_address_is_unique_whatever_its_case(store: Store) -> None:
    store.add("Ada@Example.com", name="Ada Lovelace", consent=Consent("cli: signed up at a talk"))
    with pytest.raises(SubscriberError, match="already on the list"):
        store.add("ada@EXAMPLE.COM")
    ada = store.get("ADA@example.com")
    assert ada is not None and ada.email == "Ada@example.com" and ada.status is Status.SUBSCRIBED
    assert ada.consent_method == "cli: signed up at a talk" and ada.consent_at is not None


def test_without_consent_evidence_a_new_subscriber_is_pending(store: Store) -> None:
    assert store.add("new@example.com").status is Status.PENDING


def test_every_status_change_is_in_the_history(store: Store) -> None:
    store.add("ada@example.com", consent=Consent("cli"))
    store.unsubscribe("ada@example.com", reason="one-click")
    store.unsubscribe("ada@example.com", reason="again")  # idempotent: no second entry
    store.resubscribe("ada@example.com", reason="wrote on 2025-10-01 asking to come back")
    entries = store.history("ada@example.com")
    assert [(e.from_status, e.to_status, e.reason) for e in entries] == [
        (None, Status.SUBSCRIBED, "added"),
        (Status.SUBSCRIBED, Status.UNSUBSCRIBED, "one-click"),
        (Status.UNSUBSCRIBED, Status.SUBSCRIBED, "wrote on 2025-10-01 asking to come back"),
    ]
    ada = store.get("ada@example.com")
    assert ada is not None and ada.unsubscribed_at is not None


@pytest.mark.parametrize(
    "status", [Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED, Status.BLOCKED]
)
def test_bringing_back_someone_who_left_needs_a_reason(store: Store, status: Status) -> None:
    store.add("ada@example.com", consent=Consent("cli"))
    store.change_status("ada@example.com", status, actor="test", reason=None)
    with pytest.raises(SubscriberError, match="needs --reason"):
        store.resubscribe("ada@example.com", reason=" ")
    assert store.get("ada@example.com").status is status


def test_history_cannot_be_rewritten(store: Store) -> None:
    store.add("ada@example.com")
    with pytest.raises(DBAPIError, match="append-only"), store.write() as conn:
        conn.execute(text("UPDATE status_history SET reason = 'forged'"))
    with pytest.raises(DBAPIError, match="append-only"), store.write() as conn:
        conn.execute(text("DELETE FROM status_history"))


def test_erasure_deletes_personal_data_and_blocks_the_address_for_good(store: Store) -> None:
    store.add("Mei@example.org", name="陳美玲", tag_names=["vip"], consent=Consent("cli"))
    store.erase("mei@example.org")
    assert store.get("mei@example.org") is None
    with pytest.raises(SubscriberError, match="erased"):
        store.add("MEI@example.org")
    dump = everything_stored(store)
    assert "mei@example.org" not in dump.lower() and "陳美玲" not in dump
    assert "'erased'" in dump


def everything_stored(store: Store) -> str:
    """Every row of every table in the database, as text (SQLite's or PostgreSQL's)."""
    rows = []
    with store.read() as conn:
        for table in inspect(conn).get_table_names():
            rows += [repr(tuple(row)) for row in conn.execute(text(f"SELECT * FROM {table}"))]
    return "\n".join(rows)


def test_filters_paging_and_stats(store: Store) -> None:
    for n in range(7):
        store.add(
            f"reader{n}@example.com",
            name=f"Reader {n}",
            lang="en" if n % 2 else "zh-Hant",
            consent=Consent("cli"),
        )
    store.tag(["reader1@example.com", "reader3@example.com"], "vip")
    store.unsubscribe("reader5@example.com")
    assert [s.email for s in store.find(Filters(tags=("vip",)))] == [
        "reader1@example.com",
        "reader3@example.com",
    ]
    assert store.count(Filters(status=Status.SUBSCRIBED, lang="en")) == 2
    assert [s.email for s in store.find(Filters(search="READER6"))] == ["reader6@example.com"]
    page = store.find(limit=3, offset=3)
    assert [s.email for s in page] == [
        "reader3@example.com",
        "reader4@example.com",
        "reader5@example.com",
    ]
    stats = store.stats()
    assert stats.total == 7 and stats.by_status == {"subscribed": 6, "unsubscribed": 1}
    assert stats.by_tag == {"vip": 2} and stats.by_lang == {"en": 3, "zh-Hant": 4}
    assert len(list(store.iter_all(batch=2))) == 7


def test_tag_and_untag_count_what_changed(store: Store) -> None:
    store.add("ada@example.com")
    assert store.tag(["ada@example.com"], "vip") == 1
    assert store.tag(["ada@example.com"], "vip") == 0
    assert store.tag(["ada@example.com"], "vip", remove=True) == 1
    with pytest.raises(SubscriberError, match="not on the list"):
        store.tag(["nobody@example.com"], "vip")


def test_a_tag_is_one_segment_whatever_its_case(store: Store) -> None:
    store.add("ada@example.com", tag_names=["Health"], consent=Consent("cli"))
    store.add("bob@example.com", tag_names=["health"], consent=Consent("cli"))
    assert store.tag(["bob@example.com"], "HEALTH") == 0  # already has it
    store.add("cy@example.com", tag_names=["Ärzte"], consent=Consent("cli"))
    store.add("di@example.com", tag_names=["ärzte", "Health"], consent=Consent("cli"))

    assert [s.tags for s in store.find()] == [
        ("Health",),
        ("Health",),
        ("Ärzte",),
        ("Health", "Ärzte"),
    ]
    assert store.count(Filters(tags=("health",))) == 3
    assert store.count(Filters(tags=("ÄRZTE",))) == 2
    assert store.stats().by_tag == {"Health": 3, "Ärzte": 2}
    store.tag(["di@example.com"], "HEALTH", remove=True)
    assert store.count(Filters(tags=("Health",))) == 2


def test_several_tags_match_any_of_them_or_all_of_them(store: Store) -> None:
    store.add("ada@example.com", tag_names=["vip", "health"], consent=Consent("cli"))
    store.add("bob@example.com", tag_names=["vip"], consent=Consent("cli"))
    store.add("cy@example.com", tag_names=["health"], consent=Consent("cli"))
    store.add("di@example.com", consent=Consent("cli"))

    assert store.count(Filters(tags=("vip", "health"))) == 3
    assert [s.email for s in store.find(Filters(tags=("vip", "health"), all_tags=True))] == [
        "ada@example.com"
    ]


def test_stats_point_out_tags_that_look_like_one_segment_typed_twice(store: Store) -> None:
    store.add("ada@example.com", tag_names=["health-news"])
    store.add("bob@example.com", tag_names=["Health News", "vip"])
    assert store.stats().look_alike == [["Health News", "health-news"]]


def test_an_old_database_is_migrated_on_open_and_keeps_its_data(database_url: str) -> None:
    engine = create_engine(database_url)
    migrate(engine, upto=1)  # a file written by the first release
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO subscribers (email, email_key, status, created_at, status_changed_at, attributes) "
                "VALUES ('old@example.com', 'old@example.com', 'subscribed', '2024-01-01T00:00:00+00:00', "
                "'2024-01-01T00:00:00+00:00', '{}')"
            )
        )
    engine.dispose()
    store = Store.open(database_url)
    assert store.get("old@example.com").status is Status.SUBSCRIBED
    with store.read() as conn:
        assert conn.execute(text("SELECT version FROM schema_version")).scalar() == len(MIGRATIONS)
        indexes = {index["name"] for index in inspect(conn).get_indexes("subscribers")}
    assert "ix_subscribers_status" in indexes
    store.close()


def test_a_database_from_a_newer_release_is_refused(database_url: str) -> None:
    engine = open_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE schema_version SET version = 99"))
    engine.dispose()
    with pytest.raises(NewsletterError, match="newer than this newsletter"):
        open_engine(database_url)


WRITER = textwrap.dedent(
    """
    import sys
    from newsletter.audience.store import Consent, Store
    store = Store.open(sys.argv[1])
    for n in range(int(sys.argv[3])):
        store.add(f"{sys.argv[2]}{n}@example.com", consent=Consent("test"))
        store.tag([f"{sys.argv[2]}{n}@example.com"], "both")
    """
)


def test_two_processes_writing_at_once_lose_nothing(database_url: str) -> None:
    open_engine(database_url).dispose()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, database_url, prefix, "150"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for prefix in ("left", "right")
    ]
    outcomes = [(w.communicate(timeout=120)[1], w.returncode) for w in writers]
    assert all(code == 0 for _, code in outcomes), outcomes
    store = Store.open(database_url)
    assert store.count() == 300
    assert store.stats().by_tag == {"both": 300}
    store.close()


def test_processes_opening_a_new_database_at_once_migrate_it_once(database_url: str) -> None:
    openers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, database_url, prefix, "1"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for prefix in ("a", "b", "c", "d")
    ]
    outcomes = [(o.communicate(timeout=120)[1], o.returncode) for o in openers]
    assert all(code == 0 for _, code in outcomes), outcomes
    store = Store.open(database_url)
    assert store.count() == 4
    with store.read() as conn:
        assert conn.execute(text("SELECT version FROM schema_version")).scalars().all() == [
            len(MIGRATIONS)
        ]
    store.close()


def test_an_erased_subscribers_id_and_history_never_pass_to_someone_new(
    store: Store, tmp_path: Path
) -> None:
    store.add("first@example.com")
    store.add("last@example.com")
    store.unsubscribe("last@example.com")
    store.erase("last@example.com")
    newcomer = store.add("new@example.com")
    listed = tmp_path / "more.csv"
    listed.write_text("email\nimported@example.com\n", encoding="utf-8")
    import_file(store, listed)
    ids = {s.email: s.id for s in store.find()}
    assert ids["new@example.com"] == 3 and ids["imported@example.com"] == 4
    assert [e.reason for e in store.history(newcomer.email)] == ["added"]
