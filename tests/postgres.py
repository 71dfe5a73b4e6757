"""Throwaway PostgreSQL databases, one per test, on the server TEST_POSTGRES_URL names."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import ProgrammingError


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new empty database for one test, dropped afterwards even if connections linger.

    A database rather than a schema: the store migrates and names its tables exactly as it
    would in production, with no search_path in between.
    """
    server = make_url(server_url)
    name = f"newsletter_test_{uuid.uuid4().hex}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            _drop(admin, name)
    finally:
        admin.dispose()


def _drop(admin: Engine, name: str) -> None:
    """Drop the database; an autovacuum worker in it (after a bulk load) may need a moment to
    leave when the role cannot signal it (pg_signal_backend, which .ci/run grants)."""
    for attempt in range(20):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            return
        except ProgrammingError:
            if attempt == 19:
                raise
            time.sleep(0.25)
