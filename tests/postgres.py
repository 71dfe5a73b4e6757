"""Throwaway PostgreSQL databases, one per test, on the server TEST_POSTGRES_URL names."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine.url import make_url


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
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
