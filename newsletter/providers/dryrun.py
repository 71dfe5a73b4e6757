"""Dry run: build every message exactly as a real send would, and write them to the outbox.

outbox/<campaign>/manifest.jsonl has one line per recipient (address, message id, bytes,
request, edition); the first 20 messages (or all, with eml_all) are written as .eml files. The folder
appears only when the run finishes, so an interrupted dry run leaves no half outbox. Nobody
is contacted and nothing is marked as sent. Tests use it as the reference provider.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from newsletter.atomic import MARKER, replaceable, write_file
from newsletter.config import Settings
from newsletter.providers.base import Result, Sent
from newsletter.render.mime import Envelope, MessageBuilder
from newsletter.render.transactional import Transactional

__all__ = ["DryRunProvider", "send_transactional"]

EML_SAMPLE = 20
OUTBOX = "a dry run's outbox"
_EARLIER = ("manifest.jsonl", "*.eml")
"""What an outbox held before folders carried newsletter's marker."""


class DryRunProvider:
    name: ClassVar[str] = "dry-run"

    def __init__(
        self, builder: MessageBuilder, folder: Path, *, max_batch: int = 1000, eml_all: bool = False
    ):
        self.max_batch = max_batch
        self.folder = replaceable(folder, OUTBOX, _EARLIER)
        self._builder = builder
        self._eml_all = eml_all
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        self._staging = Path(
            tempfile.mkdtemp(prefix=f".{self.folder.name}.", dir=self.folder.parent)
        )
        (self._staging / MARKER).write_text(f"{OUTBOX}: newsletter replaces this folder\n")
        self._manifest = (self._staging / "manifest.jsonl").open("w", encoding="utf-8")
        self.count = 0
        self.bytes = 0
        self.batches = 0
        self.editions: dict[str, int] = {}
        """Messages per edition (each edition is its own provider call, as with SendGrid)."""

    def send(self, batch: Sequence[Envelope]) -> list[Result]:
        self.batches += 1
        results: list[Result] = []
        for envelope in batch:
            message = self._builder.message(envelope).data
            self.count += 1
            self.bytes += len(message)
            self.editions[envelope.edition] = self.editions.get(envelope.edition, 0) + 1
            record = {
                "address": envelope.recipient.email,
                "message_id": envelope.message_id,
                "bytes": len(message),
                "batch": self.batches,
                "edition": envelope.edition,
            }
            self._manifest.write(json.dumps(record, ensure_ascii=False) + "\n")
            if self._eml_all or self.count <= EML_SAMPLE:
                (self._staging / f"{self.count:06d}.eml").write_bytes(message)
            results.append(Sent(f"dry-run-{self.count}"))
        return results

    def close(self, *, keep: bool = True) -> None:
        """Publish the outbox (replacing an older one of the same campaign), or drop it."""
        self._manifest.close()
        if not keep:
            shutil.rmtree(self._staging, ignore_errors=True)
            return
        replaceable(self.folder, OUTBOX, _EARLIER)  # still ours, or still free
        old = self.folder.with_name(f".{self.folder.name}.old") if self.folder.exists() else None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
            self.folder.rename(old)
        self._staging.rename(self.folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def send_transactional(settings: Settings, message: Transactional) -> Result:
    """No provider configured: the message lands in outbox/transactional/ for a person to read."""
    data = message.wire(settings)
    name = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.eml"
    write_file(settings.outbox_dir / "transactional" / name, data, private=True)
    return Sent(f"dry-run-{name}")
