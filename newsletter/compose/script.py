"""Traditional -> Simplified Chinese with OpenCC, leaving alone what must not change.

The article's source is converted once, in one OpenCC call: code, URLs, e-mail addresses,
HTML tags (but their alt and title text) and the editor's kept names pass through as written,
and the editor's phrases replace OpenCC's reading wherever they occur (the longest first).
OpenCC maps most characters one way; for the few a Traditional character can become two ways
(著 -> 着 or 著), every occurrence is reported as a Reading, so `check` can list them.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from newsletter.config import SimplifiedEdition

if TYPE_CHECKING:
    import opencc

__all__ = ["AMBIGUOUS", "Conversion", "Converter", "Piece", "Reading"]

AMBIGUOUS = {
    "著": "着 as the particle and in 着手, 着陆, 衣着; 著 in 著名, 著作, 显著",
    "乾": "干 for dry (干净); 乾 in 乾隆, 乾坤",
    "藉": "借 in 借口, 凭借; 藉 in 慰藉, 狼藉",
    "瞭": "了 in 了解; 瞭 in 瞭望",
    "於": "于 as the preposition; 於 as a surname",
    "夥": "伙 in 伙伴; 夥 for many (夥颐)",
    "徵": "征 in 征收, 特征; 徵 as the musical note",
    "麼": "么 in 什么; 麽 in 幺麽",
    "餘": "余 for the rest; 馀 where 余 would read as I",
    "覆": "复 in 答复, 回复; 覆 in 覆盖, 颠覆",
    "劃": "划 in 计划, 规划; 画 in 笔画",
    "係": "系 in 关系; Cantonese 係 (is) stays a choice",
    "閒": "闲 for leisure; 间 in old texts",
    "鍊": "链 for a chain; 炼 for refining",
    "昇": "升 for rise; 昇 in names",
    "祇": "只 for only; 祇 for a deity",
    "摺": "折 in 折叠; 摺 in 奏摺",
    "鍾": "钟 in 钟情 and the surname; 锺 in some names",
}
"""Traditional characters with more than one Simplified reading, and how to choose: each one
OpenCC converts is listed for review. Ours, from the characters mainland editors flag most."""

_SEPARATOR = "\ue000"
"""Joins the convertible pieces into one OpenCC call: a private-use character no dictionary
entry contains, so no phrase matches across two pieces."""
_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%]"
"""A bare URL ends at the first character a URL cannot hold unencoded: Chinese prose runs on
right after one, with no space (詳見https://example.com/report了解更多)."""
_INLINE = re.compile(
    r"(?P<code>(`+)(?!`).+?(?<!`)\2(?!`))"
    r"|(?P<tag></?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>)"
    r"|(?P<autolink><[A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*>|<[^<>\s@]+@[^<>\s]+>)"
    r"|(?P<destination>\]\(\s*(?:<[^>\n]*>|[^)\s]*))"
    r"|(?P<reference>^[ ]{0,3}\[[^\]\n]+\]:[ \t]*\S+)"
    rf"|(?P<url>(?:https?|ftp)://{_URL_CHARS}+|www\.{_URL_CHARS}+)"
    r"|(?P<email>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)",
    re.MULTILINE,
)
"""Inline Markdown that stays as written: code spans, tags, link destinations, URLs, addresses."""
_TEXT_ATTRIBUTE = re.compile(r"""(\s(?:alt|title)\s*=\s*)(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
"""Inside a tag only alt and title are words a reader sees."""


@dataclass(frozen=True)
class Reading:
    """One place where a choice was made: an ambiguous character, or an editor's phrase."""

    line: int
    source: str
    """The phrase around it as written (zh-Hant)."""
    reading: str
    """The same phrase in the edition."""
    char: str
    """The ambiguous character, or "" for an editor's phrase."""
    became: str


@dataclass(frozen=True)
class Piece:
    """A span of the source and what the edition prints for it."""

    start: int
    source: str
    output: str
    """What the edition prints; "" until OpenCC has converted a piece that is its to convert."""
    converted: bool
    """False: kept as written (code, a URL, a tag)."""
    phrase: bool = False
    """The editor's phrase or kept name, not OpenCC's reading."""


@dataclass(frozen=True)
class Conversion:
    """The converted source, the pieces it was made of (to find any place in the edition),
    and the readings an editor may want to review."""

    text: str
    pieces: tuple[Piece, ...]
    readings: tuple[Reading, ...]

    def output(self, start: int, end: int) -> str:
        """What the edition prints for source[start:end]. Inside a run OpenCC changed in length
        (記憶體 -> 内存, with tw2sp) the whole run is printed: there is no finer answer."""
        out = []
        for piece in self.pieces:
            stop = piece.start + len(piece.source)
            if stop <= start or piece.start >= end:
                continue
            first = _position(piece, max(start, piece.start) - piece.start, ceiling=False)
            last = _position(piece, min(end, stop) - piece.start, ceiling=True)
            out.append(piece.output[first:last])
        return "".join(out)

    def readings_of(self, phrase: str) -> list[tuple[int, str]]:
        """(line, how the edition prints it) wherever converted text has ``phrase``."""
        source = "".join(piece.source for piece in self.pieces)
        found = []
        at = source.find(phrase)
        while at >= 0:
            end = at + len(phrase)
            if any(
                p.converted for p in self.pieces if p.start < end and p.start + len(p.source) > at
            ):
                found.append((source.count("\n", 0, at) + 1, self.output(at, end)))
            at = source.find(phrase, end)
        return found


class Converter:
    """One OpenCC configuration with the editor's phrases and kept names."""

    def __init__(
        self, config: SimplifiedEdition, phrases: Mapping[str, str], keep: Sequence[str] = ()
    ):
        self.config = config
        self.phrases = {**{name: name for name in keep}, **phrases}
        ordered = sorted(self.phrases, key=len, reverse=True)
        self._phrase = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def text(self, text: str) -> str:
        """Plain words (a template string, a name): phrases apply, nothing else is protected."""
        return self._run(list(self._phrased(text, 0))).text

    def markdown(self, source: str, code_lines: Collection[int] = ()) -> Conversion:
        """An article's source; ``code_lines`` (0-based) are code blocks, kept as written."""
        pieces: list[Piece] = []
        offset = 0
        for number, line in enumerate(source.split("\n")):  # lines as markdown-it counts them
            line += "\n" if offset + len(line) < len(source) else ""
            if number in code_lines:
                pieces.append(_kept(offset, line))
            else:
                pieces.extend(self._markdown_line(line, offset))
            offset += len(line)
        return self._run(pieces)

    def _markdown_line(self, line: str, offset: int) -> Iterator[Piece]:
        at = 0
        for match in _INLINE.finditer(line):
            yield from self._phrased(line[at : match.start()], offset + at)
            if match.lastgroup == "tag":
                yield from self._tag(match.group(), offset + match.start())
            elif match.lastgroup == "reference":  # the label converts as the links using it do
                label, _, target = match.group().partition("]:")
                yield from self._phrased(label, offset + match.start())
                yield _kept(offset + match.start() + len(label), "]:" + target)
            else:
                yield _kept(offset + match.start(), match.group())
            at = match.end()
        yield from self._phrased(line[at:], offset + at)

    def _tag(self, tag: str, offset: int) -> Iterator[Piece]:
        at = 0
        for match in _TEXT_ATTRIBUTE.finditer(tag):
            group = 2 if match.group(2) is not None else 3
            yield _kept(offset + at, tag[at : match.start(group)])
            yield from self._phrased(match.group(group), offset + match.start(group))
            at = match.end(group)
        yield _kept(offset + at, tag[at:])

    def _phrased(self, text: str, offset: int) -> Iterator[Piece]:
        if not text:
            return
        at = 0
        for match in self._phrase.finditer(text) if self._phrase else ():
            if match.start() > at:
                yield Piece(offset + at, text[at : match.start()], "", True)
            yield Piece(
                offset + match.start(),
                match.group(),
                self.phrases[match.group()],
                True,
                phrase=True,
            )
            at = match.end()
        if at < len(text):
            yield Piece(offset + at, text[at:], "", True)

    def _run(self, found: list[Piece]) -> Conversion:
        """Every piece OpenCC converts, in one call; then the readings to review."""
        todo = [p.source for p in found if p.converted and not p.phrase]
        converted = iter(_convert(self.config, todo))
        pieces = tuple(
            dataclasses.replace(p, output=next(converted)) if p.converted and not p.phrase else p
            for p in found
        )
        conversion = Conversion("".join(p.output for p in pieces), pieces, ())
        source = "".join(p.source for p in pieces)
        readings = tuple(_readings(conversion, source))
        return dataclasses.replace(conversion, readings=readings)


def _kept(start: int, text: str) -> Piece:
    """Code, a URL, a tag: printed as written."""
    return Piece(start, text, text, False)


def _readings(conversion: Conversion, source: str) -> Iterator[Reading]:
    """Each ambiguous character OpenCC converted and each phrase of the editor's that applied,
    with two characters either side as the source has them and as the edition prints them."""
    for piece in conversion.pieces:
        if not piece.converted or (piece.phrase and piece.output == piece.source):
            continue
        phrase = piece.phrase
        spots = [0] if phrase else [i for i, c in enumerate(piece.source) if c in AMBIGUOUS]
        for index in spots:
            at = piece.start + index
            width = len(piece.source) if phrase else 1
            start, end = max(0, at - 2), at + width + 2
            yield Reading(
                line=source.count("\n", 0, at) + 1,
                source=source[start:end],
                reading=conversion.output(start, end),
                char="" if phrase else piece.source[index],
                became=conversion.output(at, at + width),
            )


def _position(piece: Piece, at: int, *, ceiling: bool) -> int:
    """Where offset ``at`` of the piece's source falls in its output."""
    if len(piece.output) == len(piece.source):
        return at
    for i1, i2, j1, j2 in _alignment(piece.source, piece.output):
        if i1 <= at < i2 or at == i2 == len(piece.source):
            if i2 - i1 == j2 - j1:  # unchanged, or changed character for character
                return j1 + (at - i1)
            return j2 if ceiling and at > i1 else j1
    return len(piece.output)


@functools.lru_cache(maxsize=256)
def _alignment(source: str, output: str) -> tuple[tuple[int, int, int, int], ...]:
    """Runs of the source and the output that correspond, for a piece that changed length."""
    matcher = difflib.SequenceMatcher(None, source, output, autojunk=False)
    return tuple((i1, i2, j1, j2) for _, i1, i2, j1, j2 in matcher.get_opcodes())


def _convert(config: SimplifiedEdition, pieces: list[str]) -> list[str]:
    """Every piece in one call; a piece holding the separator itself is converted alone."""
    if not pieces:
        return []
    opencc = _opencc(config)
    if not any(_SEPARATOR in piece for piece in pieces):
        converted = str(opencc.convert(_SEPARATOR.join(pieces))).split(_SEPARATOR)
        if len(converted) == len(pieces):
            return converted
    return [str(opencc.convert(piece)) for piece in pieces]


@functools.cache
def _opencc(config: SimplifiedEdition) -> opencc.OpenCC:
    """Loading a configuration reads its dictionaries (a few ms): once per process."""
    import opencc

    return opencc.OpenCC(config.value)
