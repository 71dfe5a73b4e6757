"""A fake SendGrid Mail Send API on 127.0.0.1 that checks every request as the real one would.

It validates the Bearer key, then the body against the official JSON Schema plus the rules
the schema misses (1000 recipients at most, no duplicate address, text before html, string
values, reserved headers, send_at within 72 hours, 30 MB). Accepted requests are recorded and
answered 202 with a unique X-Message-Id and X-RateLimit-* headers. A plan tells it how to
answer the next requests: "ok", "429", "400", "401", "413", "500", "503", "400:FIELD" (a 400
naming FIELD, such as personalizations.9.to), "slow" (accepts, then answers late), "drop"
(closes the connection without accepting), "accept-drop" (accepts, then closes without an
answer) "reset" (resets the connection before reading the body) or "bad-gzip" (accepts, then answers
with a body its Content-Encoding header misnames). It speaks HTTP/1.1 with
keep-alive, counts the connections it accepted, and with idle_close closes a connection idle
that many seconds, as a load balancer in front of the real API would.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_FILE = (
    Path(__file__).resolve().parent.parent / "fixtures" / "sendgrid" / "mail_send.schema.json"
)
RESERVED_HEADERS = {
    "x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type", "content-transfer-encoding",
    "to", "from", "subject", "reply-to", "cc", "bcc",
}  # fmt: skip
MAX_BODY = 30 * 1024 * 1024


def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    # the spec types top-level custom_args as a string; the live API and the library use an object
    schema["properties"]["custom_args"] = {
        "type": "object",
        "additionalProperties": {"type": "string"},
    }
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@dataclass
class FakeSendGrid:
    api_key: str
    validate: bool = True
    slow_seconds: float = 3.0
    accepted: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    decide: Callable[[int], str] | None = None
    idle_close: float | None = None
    url: str = ""
    requests: int = 0
    connections: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def recipients(self) -> Counter[str]:
        """How many accepted messages each address got."""
        with self._lock:
            return Counter(
                to["email"]
                for body in self.accepted
                for p in body["personalizations"]
                for to in p["to"]
            )

    def next_answer(self) -> str:
        with self._lock:
            self.requests += 1
            if self.plan:
                return self.plan.pop(0)
            return self.decide(self.requests) if self.decide else "ok"

    def problems(self, body: Any) -> list[tuple[str | None, str]]:
        """Everything the real API would refuse in this body: (field, message) as SendGrid names them."""
        if self.validate:
            errors = [
                (".".join(map(str, e.absolute_path)) or None, e.message)
                for e in _VALIDATOR.iter_errors(body)
            ]
            if errors:
                return errors
        return _rules(body) if isinstance(body, dict) else [(None, "body is not an object")]


def _rules(body: dict[str, Any]) -> list[tuple[str | None, str]]:
    problems: list[tuple[str | None, str]] = []
    addresses = [
        to["email"].lower()
        for p in body["personalizations"]
        for to in p.get("to", []) + p.get("cc", []) + p.get("bcc", [])
    ]
    if len(addresses) > 1000:
        problems.append(("personalizations", f"{len(addresses)} recipients; at most 1000"))
    if len(set(addresses)) != len(addresses):
        problems.append(("personalizations", "duplicate recipient addresses"))
    types = [c["type"] for c in body.get("content", [])]
    if (
        "text/plain" in types
        and "text/html" in types
        and types.index("text/plain") > types.index("text/html")
    ):
        problems.append(("content", "text/plain must come before text/html"))
    if "content" not in body and "template_id" not in body:
        problems.append(("content", "content is required"))
    if "reply_to" in body and "reply_to_list" in body:
        problems.append(("reply_to", "reply_to and reply_to_list together"))
    places = [(None, body)] + [
        (f"personalizations.{i}", p) for i, p in enumerate(body["personalizations"])
    ]
    for prefix, where in places:
        for key in ("custom_args", "headers", "substitutions"):
            field = f"{prefix}.{key}" if prefix else key
            values = where.get(key, {})
            if any(not isinstance(v, str) for v in values.values()):
                problems.append((field, f"{key} values must be strings"))
            reserved = RESERVED_HEADERS & {h.lower() for h in values}
            if key == "headers" and reserved:
                problems.append((field, f"reserved header in {sorted(reserved)}"))
            if (
                key in ("custom_args", "substitutions")
                and len(json.dumps(values).encode()) > 10_000
            ):
                problems.append((field, f"{key} over 10,000 bytes"))
        send_at = where.get("send_at")
        if send_at is not None and not time.time() - 60 <= send_at <= time.time() + 72 * 3600:
            problems.append(
                (f"{prefix}.send_at" if prefix else "send_at", "send_at more than 72 hours ahead")
            )
        if prefix:
            for to in where.get("to", []):
                name = to.get("name", "")
                if ("," in name or ";" in name) and not (
                    name.startswith('"') and name.endswith('"')
                ):
                    problems.append(
                        (f"{prefix}.to", "to.name may not contain , or ; unless quoted")
                    )
    tracking = body.get("tracking_settings", {})
    if (
        tracking.get("click_tracking", {}).get("enable") is not False
        or tracking.get("open_tracking", {}).get("enable") is not False
    ):
        problems.append(
            ("tracking_settings", "SendGrid's click and open tracking must be off in every request")
        )
    if any(not c.isascii() for c in body.get("categories", [])):
        problems.append(("categories", "categories must be ASCII"))
    return problems


_VALIDATOR = _validator()


def _handler(fake: FakeSendGrid) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = fake.idle_close

        def setup(self) -> None:
            super().setup()
            with fake._lock:
                fake.connections += 1

        def log_message(self, *args: Any) -> None:
            """Quiet: tests read the recorded requests instead."""

        def do_POST(self) -> None:
            if fake.plan and fake.plan[0] == "reset":
                fake.next_answer()
                return self._reset()
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length)
            if self.path != "/v3/mail/send":
                return self._answer(404, {"errors": [{"message": "not found"}]})
            if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                return self._answer(
                    401,
                    {
                        "errors": [
                            {
                                "field": None,
                                "message": "The provided authorization grant is invalid",
                            }
                        ]
                    },
                )
            if length > MAX_BODY:
                return self._answer(413, {"errors": [{"message": "payload too large"}]})
            answer = fake.next_answer()
            if answer == "drop":
                self.close_connection = True
                self.connection.close()
                return None
            if answer.startswith("400:"):
                field = answer.removeprefix("400:")
                return self._answer(400, {"errors": [{"field": field, "message": "simulated"}]})
            if answer in ("400", "401", "403", "413", "500", "503"):
                return self._answer(
                    int(answer),
                    {"errors": [{"field": "personalizations", "message": f"simulated {answer}"}]},
                )
            if answer == "429":
                return self._answer(
                    429,
                    {"errors": [{"message": "too many requests"}]},
                    {"X-RateLimit-Reset": f"{time.time() + 0.2:.0f}"},
                )
            try:
                body = json.loads(raw)
            except ValueError:
                return self._answer(400, {"errors": [{"message": "body is not JSON"}]})
            problems = fake.problems(body)
            if problems:
                return self._answer(
                    400, {"errors": [{"field": f, "message": m} for f, m in problems]}
                )
            with fake._lock:
                fake.accepted.append(body)
            if answer == "accept-drop":
                self.close_connection = True
                self.connection.close()
                return None
            if answer == "slow":
                time.sleep(fake.slow_seconds)
            if answer == "bad-gzip":
                return self._answer(202, {"not": "gzip"}, {"Content-Encoding": "gzip"})
            return self._answer(202, None, {"X-Message-Id": uuid.uuid4().hex[:22]})

        def _reset(self) -> None:
            """Give the client time to fill the buffers, then drop its request with an RST."""
            time.sleep(0.3)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

        def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            with fake._lock:
                fake.answers.append(status)
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for name, value in {
                "X-RateLimit-Limit": "600",
                "X-RateLimit-Remaining": "599",
                "X-RateLimit-Reset": f"{time.time() + 60:.0f}",
                **(headers or {}),
            }.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def running(api_key: str = "SG.test-key-not-real", **options: Any) -> Iterator[FakeSendGrid]:
    """Serve a FakeSendGrid on 127.0.0.1 (a free port) for the duration of the block."""
    fake = FakeSendGrid(api_key, **options)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
