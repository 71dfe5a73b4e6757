"""Open the store's database: SQLite tuned for two writers at once, migrated on open.

On PostgreSQL the server's own row locks serve the writers; only migrations need a lock of
their own (an advisory one), so that processes opening a new database migrate it once.

SQLite runs in WAL mode with a busy timeout, and every write transaction starts with
BEGIN IMMEDIATE: a writer waits for the lock up front instead of failing half-way when two
processes (the CLI and the web endpoint) write at the same moment. Reads stay deferred so a
long read never blocks an unsubscribe.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Engine, Integer, MetaData, Table, create_engine, event, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from newsletter.db.migrations import MIGRATIONS, WITHOUT_FOREIGN_KEYS
from newsletter.errors import ConfigError, NewsletterError, one_line

__all__ = [
    "BUSY_TIMEOUT_MS",
    "WRITE",
    "insert_adding",
    "insert_ignoring",
    "migrate",
    "open_engine",
    "schema_version",
]

BUSY_TIMEOUT_MS = 30_000
WRITE = {"newsletter_write": True}
"""Execution options of a connection that will write (BEGIN IMMEDIATE on SQLite)."""

_versions = Table("schema_version", MetaData(), Column("version", Integer, nullable=False))


def open_engine(url: str) -> Engine:
    """An engine for the URL, with the schema migrated to the newest version.

    ``postgres://`` and ``postgresql://`` (as hosting services write them) mean psycopg 3,
    the driver the `postgres` extra installs.
    """
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    try:
        parsed = make_url(url)
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
    except ArgumentError:
        raise ConfigError(
            f"database_url {url!r} is not a database URL such as sqlite:///subscribers/subscribers.db"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"database_url uses {parsed.get_backend_name()}; newsletter keeps its list in SQLite "
            "(sqlite:///subscribers/subscribers.db) or PostgreSQL (postgresql+psycopg://...)"
        )
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create {folder} for the subscriber database ({exc.strerror}); "
                "set database_url to a folder you can write"
            ) from None
    try:
        engine = create_engine(parsed, hide_parameters=True)  # no address in any logged error
    except ImportError as exc:
        raise ConfigError(
            f"database_url needs a driver that is not installed ({exc.name}); for PostgreSQL, "
            "pip install 'newsletter[postgres]'"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        _tune_sqlite(engine)
    try:
        migrate(engine)
    except BaseException as exc:
        engine.dispose()  # a refused database leaves no pooled connection behind
        if isinstance(exc, OperationalError):
            raise NewsletterError(
                f"cannot open the subscriber database {parsed.database}: {one_line(str(exc.orig))}"
            ) from None
        raise
    return engine


def insert_ignoring(conn: Connection, table: Table) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING on the primary key: a row already there is skipped."""
    keys = [column.name for column in table.primary_key]
    insert: Any = _insert(conn, table)
    return insert.on_conflict_do_nothing(index_elements=keys)


def _insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT with ON CONFLICT, its module imported on first use: PostgreSQL's
    (with its async drivers) costs every command on SQLite some 30 ms."""
    if conn.dialect.name not in ("sqlite", "postgresql"):
        raise NewsletterError(f"newsletter needs SQLite or PostgreSQL, not {conn.dialect.name}")
    dialect = importlib.import_module(f"sqlalchemy.dialects.{conn.dialect.name}")
    return dialect.insert(table)


def insert_adding(conn: Connection, table: Table, column: str) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE adding to ``column``: a counter that may exist already."""
    insert: Any = _insert(conn, table)
    keys = [c.name for c in table.primary_key]
    return insert.on_conflict_do_update(
        index_elements=keys, set_={column: table.c[column] + insert.excluded[column]}
    )


def schema_version(conn: Connection) -> int:
    return conn.execute(select(_versions.c.version)).scalar_one_or_none() or 0


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's begin event issues BEGIN itself
        cursor = dbapi_connection.cursor()
        # First: switching a new file to WAL takes a lock that others opening it at once hold
        # while they migrate, and the driver's own 5 s wait is too short on a loaded machine.
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(
            "PRAGMA synchronous=NORMAL"
        )  # WAL stays consistent; the last commit may wait
        cursor.execute(
            "PRAGMA cache_size=-32000"
        )  # 32 MB of pages: big imports touch many index pages
        cursor.close()
        # SQLite's own lower() folds ASCII only; tags and searches fold "Ärzte" as PostgreSQL does
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("newsletter_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def migrate(engine: Engine, upto: int = len(MIGRATIONS)) -> None:
    """Apply the missing migrations, each in its own write transaction; safe to race."""
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        _one_migrator_at_a_time(conn)
        _versions.create(conn, checkfirst=True)
        current = conn.execute(select(_versions.c.version)).scalar_one_or_none()
        if current is None:
            conn.execute(_versions.insert().values(version=0))
        elif current > len(MIGRATIONS):
            raise NewsletterError(
                f"the subscriber database is at schema version {current}, newer than this "
                f"newsletter ({len(MIGRATIONS)}); upgrade newsletter before using it"
            )
    for version, migration in enumerate(MIGRATIONS[:upto], start=1):
        with engine.connect().execution_options(**WRITE) as conn:
            rebuild = version in WITHOUT_FOREIGN_KEYS and conn.dialect.name == "sqlite"
            with _foreign_keys_off(conn) if rebuild else nullcontext(), conn.begin():
                _one_migrator_at_a_time(conn)
                if schema_version(conn) >= version:
                    continue
                migration(conn)
                if rebuild and (broken := conn.exec_driver_sql("PRAGMA foreign_key_check").all()):
                    raise NewsletterError(f"migration {version} broke foreign keys: {broken[:3]}")
                conn.execute(_versions.update().values(version=version))


@contextmanager
def _foreign_keys_off(conn: Connection) -> Iterator[None]:
    """SQLite ignores this pragma inside a transaction: set it on the driver's connection
    before SQLAlchemy begins one, and always back on before the connection returns to the pool."""
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


_MIGRATION_LOCK = 0x6E6577736C6574  # any constant: the advisory lock key of this schema
"""PostgreSQL advisory locks are per database, so one key serialises all its migrators."""


def _one_migrator_at_a_time(conn: Connection) -> None:
    """Hold the migration lock until the transaction ends.

    SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL lets two processes that
    open a new database read version 0 at once and both create the same tables.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value
