"""A real SMTP server (aiosmtpd) on 127.0.0.1 that records messages and can refuse on cue."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Recorder:
    """The handler: what was delivered, and replies to give instead of 250 for some addresses."""

    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    refuse_rcpt: dict[str, str] = field(default_factory=dict)
    refuse_data: list[str] = field(default_factory=list)
    sessions: int = 0
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self._lock:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self.refuse_data:
                return self.refuse_data.pop(0)
            self.messages.append(
                (
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.original_content or envelope.content,
                )
            )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running() -> Iterator[Recorder]:
    recorder = Recorder()
    recorder.port = _free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=recorder.port)
    controller.start()
    try:
        yield recorder
    finally:
        controller.stop()
