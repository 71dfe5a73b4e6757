"""Read the weekly article: YAML front matter + Markdown body -> an immutable Article."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from newsletter.compose import markdown
from newsletter.compose.reading import display_width
from newsletter.errors import ArticleError
from newsletter.userinput import key_line, require_https

__all__ = [
    "Article",
    "FrontMatter",
    "HeroImage",
    "Words",
    "derive_preheader",
    "display_width",
    "read_article",
]

PREHEADER_WIDTH = 100
"""Inbox preview budget in display columns: about 100 Latin or 50 CJK characters."""
_SENTENCE_END = re.compile(r"[。！？]|[.!?](?=\s|$)")
_ABBREVIATIONS = {"e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "no", "st", "approx"}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _FrontMatterLoader(_BASE_LOADER):  # type: ignore[misc,valid-type]
    """Safe YAML that leaves dates as text, so a bad date is pydantic's error, with its line."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _BASE_LOADER.yaml_implicit_resolvers.items()
    }


Words = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
"""A phrase or name an editor lists: an empty one would match between every two characters."""


class HeroImage(BaseModel):
    """The optional picture under the title."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str
    alt: str = Field(min_length=1, description="Describe the picture; required for screen readers.")
    width: int = Field(default=600, ge=1, le=600)

    _url = field_validator("url")(require_https)


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
    editions: dict[str, str] = Field(
        default_factory=dict,
        description="Editions the editor wrote: language -> file beside this one, such as "
        "en: 2025-09-04.en.md (docs/editions.md).",
    )
    phrases: dict[Words, str] = Field(
        default_factory=dict,
        description="This article's zh-Hans phrases OpenCC gets wrong: 隨著: 随着.",
    )
    keep: tuple[Words, ...] = Field(
        default=(), description="Names every edition prints as written, such as 灣仔."
    )

    _canonical = field_validator("canonical_url")(require_https)

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
    slug: str
    preheader: str
    preheader_derived: bool
    body_line: int = 1
    """The file's line where the body begins, for errors found in the body."""

    @property
    def subject(self) -> str:
        return self.meta.subject or self.meta.title

    @property
    def lang(self) -> str:
        return self.meta.lang

    def line_of(self, key: str) -> int | None:
        """The line of a front matter key, for error messages."""
        return _key_line(self.source, key)


def read_article(path: Path) -> Article:
    """Parse and validate an article file; every problem names the file and line."""
    if path.is_dir():
        raise ArticleError("is a folder; give the article's Markdown file", path=path)
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
    slug = meta.slug or slugify(path.stem)
    if not slug:
        raise ArticleError(
            "the file name gives no slug for the build folder and web link: add "
            "'slug: 2025-09-04-topic' (letters, digits, hyphens) to the front matter",
            path=path,
            line=2,
        )
    if meta.preheader:
        return Article(
            path,
            text,
            meta,
            body,
            slug,
            meta.preheader,
            preheader_derived=False,
            body_line=body_line,
        )
    tokens = markdown.parse(body)
    paragraphs = (
        markdown.inline_text(tokens[i + 1], urls=False)
        for i, t in enumerate(tokens)
        if t.type == "paragraph_open"
    )
    first = next((p for p in paragraphs if p.strip()), None)
    if first is None:
        raise ArticleError(
            "no preheader and no paragraph of text to derive one from: add 'preheader:' to the front matter",
            path=path,
            line=2,
        )
    return Article(
        path, text, meta, body, slug, derive_preheader(first), preheader_derived=True,
        body_line=body_line,
    )  # fmt: skip


def derive_preheader(paragraph: str, width: int = PREHEADER_WIDTH) -> str:
    """The first sentence if it fits the inbox preview, else a cut at a clause or word boundary."""
    paragraph = " ".join(paragraph.split())
    sentence = _first_sentence(paragraph)
    if sentence and display_width(sentence) <= width:
        return sentence
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


def _first_sentence(paragraph: str) -> str | None:
    """Up to the first 。！？, or . ! ? before a space, except after an abbreviation like e.g."""
    for match in _SENTENCE_END.finditer(paragraph):
        if match.group(0) == ".":
            word = (
                paragraph[: match.start()].rsplit(None, 1)[-1].lower()
                if paragraph[: match.start()].strip()
                else ""
            )
            if len(word.rstrip(".")) <= 1 or word in _ABBREVIATIONS:
                continue
        return paragraph[: match.end()]
    return None


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
        raw = yaml.load("\n".join(lines[1:end]), Loader=_FrontMatterLoader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 2
        raise ArticleError(
            _yaml_message(exc, lines[line - 1] if line <= end else ""), path=path, line=line
        ) from None
    if not isinstance(raw, dict):
        raise ArticleError("front matter must be 'key: value' lines", path=path, line=2)
    return raw, "\n".join(lines[end + 1 :]), end + 2


def _yaml_message(exc: yaml.YAMLError, line: str) -> str:
    """PyYAML's words name the parser's state; say what the editor typed and how to write it."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    key, _, value = line.partition(":")
    value = value.strip()
    if "mapping values are not allowed" in problem and value:
        quoted = value.replace("\\", "\\\\").replace('"', '\\"')
        return (
            f"the value of {key.strip()!r} contains ': '; put it in quotes: "
            f'{key.strip()}: "{quoted}"'
        )
    if "tab character" in problem or line[: len(line) - len(line.lstrip())].count("\t"):
        return "front matter is indented with a tab; use spaces"
    if value[:1] in ("*", "&", "@", "`", "!", "%", "|", ">") and ":" in line:
        return f"the value of {key.strip()!r} starts with {value[0]!r}; put it in quotes"
    return f"front matter is not valid YAML ({problem}); write each line as 'key: value'"


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
        elif error["loc"][0] in _SHAPES and error["type"] in ("dict_type", "tuple_type"):
            field = str(error["loc"][0])
            reason = f"must be {_SHAPES[field]}"
        elif error["loc"][0] in ("keep", "phrases") and error["type"] == "string_too_short":
            field = str(error["loc"][0])
            reason = "has an empty name or phrase, which would match everywhere: remove it"
        elif error["input"] is None or error["type"] == "string_too_short":
            reason = f"is empty: write a value after '{field}:'"
        raise ArticleError(
            f"front matter '{field}' {reason}",
            path=path,
            line=_key_line(text, str(error["loc"][0])) if error["loc"] else None,
        ) from None


_SHAPES = {
    "editions": "indented 'language: file' lines, such as '  en: 2025-09-04.en.md'",
    "phrases": "indented 'Traditional: Simplified' lines, such as '  隨著: 随着'",
    "keep": "a list of names, one '  - 灣仔' line each",
    "tags": "a list, one '  - AI' line each",
}
"""How to write the front matter keys that hold a mapping or a list, for the error message."""


def _key_line(text: str, key: str) -> int | None:
    front_matter = text.split("\n---", 1)[0]
    return key_line(front_matter, key, ":")


def slugify(stem: str) -> str:
    """ASCII letters and digits of a name, joined by hyphens; empty for a Chinese name."""
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
