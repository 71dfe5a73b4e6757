"""The pre-encoded base64 body is byte for byte what encoding the whole filled part gives."""

from __future__ import annotations

import base64
import itertools

import pytest

from newsletter.render.base64part import Base64Part, crlf
from newsletter.render.issue import RecipientFields
from newsletter.render.placeholders import Slots, SlotTemplate
from tests.delivery.helpers import rendered

NAMES = ["", "A", "陳", "Ada", "陳大文", "Tim & <Berners-Lee>", 'D\'Arcy "Jo"', "黃" * 40, "x" * 77]


def _reference(template: SlotTemplate, values: dict[str, str]) -> bytes:
    """What the message carried before: the whole part through base64.encodebytes."""
    data = crlf(template.fill(values)).encode("utf-8")
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


@pytest.mark.parametrize("part", ["html", "text"])
def test_every_alignment_and_line_position_gives_the_same_bytes(part: str) -> None:
    _, issue = rendered()
    template = issue.html_template if part == "html" else issue.text_template
    encoder = Base64Part(template)
    for name, extra in itertools.product(NAMES, range(3)):
        fields = RecipientFields(
            name or None,
            f"https://news.example.com/u/{'9' * extra}1.abc",
            f"https://news.example.com/archive/x{'y' * extra}",
        )
        values = issue.values(fields)
        assert encoder.encode(values) == _reference(template, values), (name, extra)


@pytest.mark.parametrize(
    "source",
    ["", "@@nl.s.h.first_name@@", "a@@nl.s.h.first_name@@b@@nl.s.h.web_url@@", "x\ny\n" * 50],
)
def test_short_chunks_empty_chunks_and_line_ends(source: str) -> None:
    template = SlotTemplate.compile(source, Slots("s"), "h")
    for name in NAMES:
        values = {"first_name": name, "web_url": "https://e.example/" + name}
        assert Base64Part(template).encode(values) == _reference(template, values)
