"""A part's base64 body built per recipient from pieces encoded once per issue.

Base64 turns each 3 bytes into 4 characters, and a body is cut into lines of 76 characters
(57 bytes). So a fixed chunk of the part encodes, and breaks into lines, the same way whenever
it starts at the same offset modulo 57: each chunk is encoded and cut once for each offset it
is met at (57 at most), and a message encodes only the few bytes around each per-recipient
value. The output is byte for byte what ``base64.encodebytes`` gives for the whole part
(tests/render/test_base64part.py), which loops in Python over every 57 bytes.
"""

from __future__ import annotations

from binascii import b2a_base64
from collections.abc import Mapping

from newsletter.render.placeholders import SlotTemplate

__all__ = ["Base64Part", "crlf"]

LINE = 76
"""Characters per line of a base64 body (RFC 2045)."""
CRLF = b"\r\n"


def crlf(text: str) -> str:
    """Line ends as the wire has them."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


class Base64Part:
    """One part (HTML or text) of an issue, ready to encode for each recipient."""

    def __init__(self, template: SlotTemplate):
        self._template = template
        self._chunks = [crlf(chunk).encode("utf-8") for chunk in template.chunks]
        self._cut: dict[tuple[int, int, int], tuple[bytes, int]] = {}
        """(chunk, head, column) -> the chunk's whole groups, encoded and cut, and the column
        after them."""

    def encode(self, values: Mapping[str, str]) -> bytes:
        """The part's body for one recipient, base64 in CRLF-ended lines."""
        template, chunks = self._template, self._chunks
        out: list[bytes] = []
        column = 0
        carry = b""  # bytes not yet encoded: fewer than 3 after each chunk
        for index, chunk in enumerate(chunks):
            if index:
                carry += crlf(template.escape(values[template.fields[index - 1]])).encode("utf-8")
            head = (3 - len(carry) % 3) % 3
            if len(chunk) < head:
                carry += chunk
                continue
            carry += chunk[:head]
            if carry:
                column = _cut(b2a_base64(carry, newline=False), column, out)
            body, column = self._body(index, head, column)
            out.append(body)
            carry = chunk[head + 3 * ((len(chunk) - head) // 3) :]
        if carry:
            column = _cut(b2a_base64(carry, newline=False), column, out)
        if column:
            out.append(CRLF)
        return b"".join(out)

    def _body(self, index: int, head: int, column: int) -> tuple[bytes, int]:
        """Chunk ``index`` from byte ``head`` on, whole groups of 3, starting at ``column``."""
        key = (index, head, column)
        found = self._cut.get(key)
        if found is None:
            chunk = self._chunks[index]
            groups = chunk[head : head + 3 * ((len(chunk) - head) // 3)]
            lines: list[bytes] = []
            after = _cut(b2a_base64(groups, newline=False), column, lines)
            found = self._cut[key] = (b"".join(lines), after)
        return found


def _cut(encoded: bytes, column: int, out: list[bytes]) -> int:
    """Append ``encoded`` to ``out`` with a CRLF after each completed line; the new column."""
    first = LINE - column
    if len(encoded) < first:
        out.append(encoded)
        return column + len(encoded)
    out.append(encoded[:first])
    out.append(CRLF)
    at = first
    while len(encoded) - at >= LINE:
        out.append(encoded[at : at + LINE])
        out.append(CRLF)
        at += LINE
    if at < len(encoded):
        out.append(encoded[at:])
    return len(encoded) - at
