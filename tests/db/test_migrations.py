"""Migrations cannot drift: a database from the first release, upgraded, is the same as a new
one, and both are what db/schema.py describes, on SQLite and on PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url

from newsletter.audience.store import Store
from newsletter.db.engine import schema_version
from newsletter.db.migrations import MIGRATIONS
from newsletter.db.schema import metadata
from tests.conftest import FIXTURES, POSTGRES

RELEASED = FIXTURES / "db"


def _released(database_url: str) -> None:
    """Put the first release's database where ``database_url`` points."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        shutil.copyfile(RELEASED / "v2-release.sqlite", str(url.database))
        return
    script = (RELEASED / "v2-release.postgresql.sql").read_text(encoding="utf-8")
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(script.encode())


@contextmanager
def _another(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database of the same kind."""
    if make_url(database_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    from tests.postgres import fresh_database

    with fresh_database(POSTGRES) as url:
        yield url


def _shape(engine: Engine) -> dict[str, Any]:
    """Tables, columns, keys, indexes and triggers as the database reports them."""
    found = inspect(engine)
    shape: dict[str, Any] = {}
    for table in sorted(found.get_table_names()):
        shape[table] = {
            "columns": sorted(
                (c["name"], str(c["type"].compile(engine.dialect)), c["nullable"])
                for c in found.get_columns(table)
            ),
            "primary key": found.get_pk_constraint(table)["constrained_columns"],
            "foreign keys": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                for f in found.get_foreign_keys(table)
            ),
            "unique": sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(table)),
            "indexes": sorted(
                (i["name"], tuple(str(c) for c in i["column_names"]), bool(i["unique"]))
                for i in found.get_indexes(table)
            ),
        }
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT type, name, sql FROM sqlite_master")).all()
            shape["triggers"] = sorted(n for kind, n, _ in rows if kind == "trigger")
            shape["autoincrement"] = sorted(
                n for kind, n, sql in rows if kind == "table" and "AUTOINCREMENT" in (sql or "")
            )
        else:
            shape["triggers"] = sorted(
                conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars()
            )
    return shape


def _models(engine: Engine) -> dict[str, Any]:
    """What db/schema.py says each table holds, in the same terms as ``_shape``."""
    return {
        table.name: {
            "columns": sorted(
                (c.name, str(c.type.compile(engine.dialect)), c.nullable) for c in table.columns
            ),
            "primary key": [c.name for c in table.primary_key.columns],
            "foreign keys": sorted(
                ((f.parent.name,), f.column.table.name, (f.column.name,))
                for f in table.foreign_keys
            ),
        }
        for table in metadata.sorted_tables
    }


def test_an_upgraded_release_and_a_new_database_are_the_same_and_match_the_models(
    database_url: str, tmp_path: Path
) -> None:
    _released(database_url)
    with _another(database_url, tmp_path) as fresh_url:
        Store.open(database_url).close()
        Store.open(fresh_url).close()
        upgraded, fresh = create_engine(database_url), create_engine(fresh_url)
        try:
            assert _shape(upgraded) == _shape(fresh)
            shape, models = _shape(fresh), _models(fresh)
            for name, described in models.items():
                assert {k: shape[name][k] for k in described} == described, name
            assert set(shape) - set(models) - {"triggers", "autoincrement"} == {"schema_version"}
            if fresh.dialect.name == "sqlite":
                autoincrement = {
                    t.name
                    for t in metadata.sorted_tables
                    if t.dialect_options["sqlite"]["autoincrement"]
                }
                assert set(shape["autoincrement"]) == autoincrement
            with upgraded.connect() as conn:
                assert schema_version(conn) == len(MIGRATIONS)
        finally:
            upgraded.dispose()
            fresh.dispose()


def test_an_upgraded_release_keeps_its_readers_and_never_reuses_an_erased_readers_id(
    database_url: str,
) -> None:
    _released(database_url)
    store = Store.open(database_url)
    try:
        assert {s.email: s.status.value for s in store.find()} == {
            "ada@example.com": "subscribed",
            "chan@example.com": "subscribed",
            "left@example.com": "unsubscribed",
        }
        assert store.get("chan@example.com").tags == ("香港",)
        newcomer = store.add("new@example.com")
        assert newcomer.id == 5  # 4 was the erased reader's, still in the history
        assert [e.reason for e in store.history("new@example.com")] == ["added"]
    finally:
        store.close()


@pytest.mark.parametrize("version", range(1, len(MIGRATIONS) + 1))
def test_every_version_opens_and_upgrades_to_the_last(version: int, tmp_path: Path) -> None:
    from newsletter.db.engine import migrate

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    try:
        migrate(engine, upto=version)
    finally:
        engine.dispose()
    Store.open(url).close()
    upgraded = create_engine(url)
    try:
        with upgraded.connect() as conn:
            assert schema_version(conn) == len(MIGRATIONS)
    finally:
        upgraded.dispose()


def test_migration_9_stores_chinese_region_tags_as_their_script(tmp_path: Path) -> None:
    """Readers imported before editions kept zh-CN or zh_hk; editions are named by script."""
    database = tmp_path / "list.db"
    shutil.copyfile(RELEASED / "v2-release.sqlite", database)
    engine = create_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        ids = conn.execute(text("SELECT id FROM subscribers ORDER BY id")).scalars().all()
        for subscriber_id, lang in zip(ids, ["zh-CN", "zh_hk", "zh"], strict=True):
            conn.execute(
                text("UPDATE subscribers SET lang = :lang WHERE id = :id"),
                {"lang": lang, "id": subscriber_id},
            )
    engine.dispose()
    Store.open(f"sqlite:///{database}").close()  # migrates
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        langs = [
            conn.execute(text("SELECT lang FROM subscribers WHERE id = :id"), {"id": i}).scalar()
            for i in ids
        ]
    engine.dispose()
    assert langs == ["zh-Hans", "zh-Hant", "zh"]
