"""Read the weekly article: YAML front matter + Markdown body -> an immutable Article."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from newsletter import markdown
from newsletter.errors import ArticleError

__all__ = [
    "Article",
    "FrontMatter",
    "HeroImage",
    "derive_preheader",
    "display_width",
    "read_article",
]

PREHEADER_WIDTH = 100
"""Inbox preview budget in display columns: about 100 Latin or 50 CJK characters."""
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it


def _https(value: str | None) -> str | None:
    if value is not None and not value.startswith("https://"):
        raise ValueError("must be an https:// URL")
    return value


class HeroImage(BaseModel):
    """The optional picture under the title."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str
    alt: str = Field(min_length=1, description="Describe the picture; required for screen readers.")
    width: int = Field(default=600, ge=1, le=600)

    _url = field_validator("url")(_https)


class FrontMatter(BaseModel):
    """What an editor may write between the two --- lines."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    title: str = Field(min_length=1)
    author: str | None = None
    date: dt.date
    lang: str = Field(description="A language in templates/locales.toml: zh-Hant or en.")
    preheader: str | None = Field(default=None, min_length=1)
    subject: str | None = Field(default=None, min_length=1, description="Defaults to the title.")
    slug: str | None = None
    hero: HeroImage | None = None
    canonical_url: str | None = None
    tags: tuple[str, ...] = ()

    _canonical = field_validator("canonical_url")(_https)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is not None and not _SLUG.match(value):
            raise ValueError("use lower-case letters, digits and hyphens, such as 2025-09-04-ai")
        return value


@dataclass(frozen=True)
class Article:
    """One issue's content, validated; the body stays Markdown until rendering."""

    path: Path
    source: str
    meta: FrontMatter
    body: str
    body_line: int
    preheader: str
    preheader_derived: bool

    @property
    def subject(self) -> str:
        return self.meta.subject or self.meta.title

    @property
    def slug(self) -> str:
        return self.meta.slug or _slugify(self.path.stem)

    @property
    def lang(self) -> str:
        return self.meta.lang

    def line_of(self, key: str) -> int | None:
        """The line of a front matter key, for error messages."""
        return _key_line(self.source, key)


def read_article(path: Path) -> Article:
    """Parse and validate an article file; every problem names the file and line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ArticleError("article not found; check the path", path=path) from None
    except UnicodeDecodeError:
        raise ArticleError("not UTF-8 text; save the article as UTF-8", path=path) from None
    return parse_article(text, path)


def parse_article(text: str, path: Path) -> Article:
    text = text.replace("\r\n", "\n")
    raw, body, body_line = _split_front_matter(text, path)
    meta = _validate(raw, text, path)
    if meta.preheader:
        return Article(path, text, meta, body, body_line, meta.preheader, preheader_derived=False)
    tokens = markdown.parse(body)
    paragraphs = [tokens[i + 1] for i, t in enumerate(tokens) if t.type == "paragraph_open"]
    if not paragraphs:
        raise ArticleError(
            "no preheader and no paragraph to derive one from: add 'preheader:' to the front matter",
            path=path,
            line=2,
        )
    preheader = derive_preheader(markdown.plain_inline(paragraphs[0]))
    return Article(path, text, meta, body, body_line, preheader, preheader_derived=True)


def derive_preheader(paragraph: str, width: int = PREHEADER_WIDTH) -> str:
    """The first sentence if it fits the inbox preview, else a cut at a clause or word boundary."""
    paragraph = " ".join(paragraph.split())
    sentence = re.match(r".+?[。！？.!?](?=\s|$|[^.\d])", paragraph)
    if sentence and display_width(sentence.group(0)) <= width:
        return sentence.group(0)
    if display_width(paragraph) <= width:
        return paragraph
    cut, used = 0, 0
    for index, char in enumerate(paragraph):
        used += display_width(char)
        if used > width - 1:
            break
        if char in " ,，、;；:：" and index > 0:
            cut = index
    head = paragraph[: cut or index].rstrip(" ,，、;；:：")
    return head + "…"


def display_width(text: str) -> int:
    """Columns a string takes in an inbox list: wide (CJK) characters count double."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str, int]:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise ArticleError(
            "no front matter: start the file with a '---' line, then title, date and lang, then '---'",
            path=path,
            line=1,
        )
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
    except StopIteration:
        raise ArticleError(
            "front matter is not closed: add a '---' line after it", path=path, line=1
        ) from None
    try:
        raw = yaml.load("\n".join(lines[1:end]), Loader=_YAML_LOADER) or {}
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 2 if exc.problem_mark else 1
        raise ArticleError(
            f"front matter is not valid YAML: {exc.problem}", path=path, line=line
        ) from None
    if not isinstance(raw, dict):
        raise ArticleError("front matter must be 'key: value' lines", path=path, line=2)
    return raw, "\n".join(lines[end + 1 :]), end + 2


def _validate(raw: dict[str, Any], text: str, path: Path) -> FrontMatter:
    unknown = sorted(str(k) for k in raw if k not in FrontMatter.model_fields)
    if unknown:
        allowed = ", ".join(FrontMatter.model_fields)
        raise ArticleError(
            f"unknown front matter key {', '.join(repr(k) for k in unknown)}: allowed keys are {allowed}",
            path=path,
            line=_key_line(text, unknown[0]),
        )
    try:
        return FrontMatter.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        reason = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "missing":
            reason = "is required"
        raise ArticleError(
            f"front matter '{field}' {reason}",
            path=path,
            line=_key_line(text, str(error["loc"][0])) if error["loc"] else None,
        ) from None


def _key_line(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*:")
    for number, line in enumerate(text.split("\n"), start=1):
        if pattern.match(line):
            return number
        if number > 1 and line.strip() == "---":
            break
    return None


def _slugify(stem: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return slug or "issue"
