"""Opening the store: only the database's own dialect is loaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
from newsletter.audience.store import Consent, Store
from newsletter.db.engine import insert_ignoring
from newsletter.db.schema import tags

store = Store.open(sys.argv[1])
reader = store.add("reader@example.org", consent=Consent("test"))
with store.write() as conn:
    conn.execute(insert_ignoring(conn, tags), [{"subscriber_id": reader.id, "tag": "a"}])
    conn.execute(insert_ignoring(conn, tags), [{"subscriber_id": reader.id, "tag": "a"}])
store.close()
print(sorted(m for m in sys.modules if m.startswith("sqlalchemy.dialects.postgresql")))
"""


def test_a_store_on_sqlite_never_loads_the_postgresql_dialect(tmp_path: Path) -> None:
    """PostgreSQL's dialect and its async drivers cost every SQLite command some 30 ms."""
    shown = subprocess.run(
        [sys.executable, "-c", SCRIPT, f"sqlite:///{tmp_path / 'subscribers.db'}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == "[]"
