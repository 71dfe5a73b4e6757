"""The floor of a SendGrid send: the same requests and journal rows from a bare Python script.

    python benchmarks/send_floor.py DATABASE SPEC.json URL

benchmarks/send.py runs it in its own process beside `newsletter send`, on a copy of the same
folder: it freezes the audience into the journal, then per batch of 1,000 claims the rows,
enters them in the ledger, signs each reader's unsubscribe link (HMAC-SHA256), builds their
personalization, posts the batch as compact UTF-8 JSON (what every batch shares encoded once)
over one kept-alive http.client connection and records it sent. SPEC.json holds what the
project renders once per issue (the request body without recipients, the slot tokens) and the
signing key. Only the standard library: nothing in the way.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import html
import http.client
import json
import sqlite3
import sys
from typing import Any
from urllib.parse import urlsplit

BATCH = 1000
FREEZE = """
INSERT INTO campaign_recipients (campaign_id, subscriber_id, state, attempts, updated_at)
SELECT ?, id, 'pending', 0, ? FROM subscribers WHERE status = 'subscribed' ORDER BY id
"""
CLAIM = """
SELECT r.subscriber_id, s.email, s.name, s.status, s.lang,
       json_extract(s.attributes, '$.first_name')
FROM campaign_recipients r LEFT JOIN subscribers s ON s.id = r.subscriber_id
WHERE r.campaign_id = ? AND r.state = 'pending' AND r.subscriber_id > ?
ORDER BY r.subscriber_id LIMIT ?
"""
SENDING = """
UPDATE campaign_recipients
SET state = 'sending', batch = ?, reason = NULL, updated_at = ?, attempts = attempts + 1,
    edition = ?
WHERE campaign_id = ? AND state = 'pending' AND subscriber_id BETWEEN ? AND ?
"""
LEDGER = """
INSERT OR IGNORE INTO deliveries (issue_id, subscriber_id, campaign_id, claimed_at)
SELECT ?, subscriber_id, ?, ? FROM campaign_recipients
WHERE campaign_id = ? AND batch = ? AND state = 'sending' ORDER BY subscriber_id
"""
SENT = """
UPDATE campaign_recipients SET state = 'sent', reason = NULL, provider_id = ?, updated_at = ?
WHERE campaign_id = ? AND batch = ? AND state = 'sending' AND edition = ?
"""
"""The journal's statements as the project runs them per batch (benchmarks/journal.py too)."""


def personalization(spec: dict[str, Any], key: bytes, row: tuple[Any, ...]) -> dict[str, Any]:
    subscriber_id, email, name, _, _, first_name = row
    signature = hmac.new(key, f"{subscriber_id}.{spec['campaign']}".encode(), hashlib.sha256)
    token = f"{subscriber_id}.{base64.urlsafe_b64encode(signature.digest()[:16]).decode()}"
    unsubscribe = f"{spec['base_url']}/u/{token}"
    values = {
        "first_name": first_name or (name.split()[0] if name else ""),
        "unsubscribe_url": unsubscribe,
        "web_url": spec["web_url"],
        "click_reader": "",
    }
    substitutions = {}
    for field, (html_token, text_token) in spec["tokens"].items():
        substitutions[html_token] = html.escape(values[field])
        substitutions[text_token] = values[field]
    to = {"email": email, "name": name} if name else {"email": email}
    return {
        "to": [to],
        "substitutions": substitutions,
        "headers": {
            "List-Unsubscribe": f"<{unsubscribe}>, <mailto:{spec['mailto']}?subject={token}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        "custom_args": {"campaign": spec["campaign"], "subscriber": str(subscriber_id)},
    }


def main(database: str, spec_path: str, url: str) -> None:
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    campaign, key = spec["campaign"], spec["secret"].encode()
    db = sqlite3.connect(database, isolation_level=None)
    (issue_id,) = db.execute("SELECT issue_id FROM campaigns WHERE id = ?", (campaign,)).fetchone()
    now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    db.execute("BEGIN IMMEDIATE")
    db.execute(FREEZE, (campaign, now))
    db.execute("COMMIT")
    where = urlsplit(url)
    connection = http.client.HTTPConnection(where.hostname or "", where.port)
    headers = {"Authorization": f"Bearer {spec['api_key']}", "Content-Type": "application/json"}
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    head = encoder.encode(spec["base"])[:-1].encode() + b',"personalizations":'
    after, batch = 0, 0
    while True:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        db.execute("BEGIN IMMEDIATE")
        pending = db.execute(CLAIM, (campaign, after, BATCH)).fetchall()
        if not pending:
            db.execute("COMMIT")
            break
        batch += 1
        first, after = pending[0][0], pending[-1][0]
        db.execute(SENDING, (batch, now, spec["edition"], campaign, first, after))
        db.execute(LEDGER, (issue_id, campaign, now, campaign, batch))
        db.execute("COMMIT")
        personalizations = [personalization(spec, key, r) for r in pending]
        body = head + encoder.encode(personalizations).encode() + b"}"
        connection.request("POST", "/v3/mail/send", body, headers)
        answer = connection.getresponse()
        answer.read()
        if answer.status != 202:
            raise SystemExit(f"the fake answered {answer.status}")
        db.execute("BEGIN IMMEDIATE")
        db.execute(SENT, (answer.getheader("X-Message-Id"), now, campaign, batch, spec["edition"]))
        db.execute("COMMIT")
    connection.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
