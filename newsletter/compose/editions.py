"""The editions of one article: the original, its zh-Hans conversion, and editions the editor wrote.

A zh-Hant article yields a zh-Hans edition through OpenCC (``zh_hans_edition``, hk2s unless
set otherwise), with the newsletter's phrases and kept names (templates/editions.toml) and the
article's own (front matter ``phrases`` and ``keep``; the article's win). An edition the
editor wrote, named in front matter ``editions`` (``en: 2025-09-04.en.md``), is read as an
article of its own and shares the original's slug. No edition is machine-translated.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from newsletter.compose import markdown
from newsletter.compose.article import Article, Words, parse_article, read_article
from newsletter.compose.locales import Locale
from newsletter.compose.script import Conversion, Converter
from newsletter.config import Settings, SimplifiedEdition
from newsletter.errors import ArticleError, TemplateError
from newsletter.languages import canonical

__all__ = [
    "EDITIONS_FILE",
    "SIMPLIFIED_FONTS",
    "ArticleEditions",
    "EditionRules",
    "article_editions",
    "converter_for",
    "load_rules",
    "simplified_locale",
]

EDITIONS_FILE = "editions.toml"
SIMPLIFIED = "zh-Hans"
TRADITIONAL = "zh-Hant"


class EditionRules(BaseModel):
    """What templates/editions.toml says about the zh-Hans edition."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    phrases: dict[Words, str] = Field(default_factory=dict)
    """Traditional phrase -> how the edition writes it, instead of OpenCC's reading."""
    keep: tuple[Words, ...] = ()
    """Names printed as written in every edition."""
    reviewed: dict[Words, str] = Field(default_factory=dict)
    """Phrases an editor checked: the edition must read them this way (else `check` warns)."""


@dataclass(frozen=True)
class ArticleEditions:
    """Every edition's article, the original first, and how the zh-Hans one was converted."""

    articles: dict[str, Article]
    conversion: Conversion | None = None
    converter: Converter | None = None
    rules: EditionRules = field(default_factory=EditionRules)

    @classmethod
    def single(cls, article: Article) -> ArticleEditions:
        return cls({article.lang: article})

    @property
    def original(self) -> Article:
        return next(iter(self.articles.values()))

    @property
    def written(self) -> dict[str, Article]:
        """The editions the editor wrote, beside the original (not the converted one)."""
        _, *others = self.articles
        converted = SIMPLIFIED if self.conversion is not None else None
        return {lang: self.articles[lang] for lang in others if lang != converted}


SIMPLIFIED_FONTS = (
    "'PingFang SC', 'Microsoft YaHei', '微软雅黑', 'Noto Sans SC', 'Noto Sans CJK SC', sans-serif"
)
"""Simplified Chinese glyphs on Apple, Windows and Linux: with a Traditional font stack a
Simplified text shows Traditional glyph shapes (or mixes fonts)."""


def simplified_locale(traditional: Locale, settings: Settings) -> Locale:
    """A zh-Hans locale from the zh-Hant one, for a locales.toml from before zh-Hans editions."""
    config = settings.zh_hans_edition
    converter = Converter(SimplifiedEdition.T2S if config == SimplifiedEdition.OFF else config, {})
    texts = {
        key: converter.text(value)
        for key, value in dataclasses.asdict(traditional).items()
        if isinstance(value, str) and key not in ("lang", "font_family", "line_height")
    }
    months = tuple(converter.text(month) for month in traditional.month_names)
    return dataclasses.replace(
        traditional, **texts, lang=SIMPLIFIED, font_family=SIMPLIFIED_FONTS, month_names=months
    )


def load_rules(templates_dir: Path) -> EditionRules:
    """templates/editions.toml's [zh-Hans] table; no file means no phrases and no kept names."""
    path = templates_dir / EDITIONS_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return EditionRules()
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"not valid TOML: {exc}", path=path) from None
    unknown = sorted(set(data) - {SIMPLIFIED})
    if unknown:
        raise TemplateError(
            f"unknown table [{unknown[0]}]: only [{SIMPLIFIED}] is read (docs/editions.md)",
            path=path,
        )
    try:
        return EditionRules.model_validate(data.get(SIMPLIFIED, {}))
    except ValidationError as exc:
        error = exc.errors()[0]
        where = str(error["loc"][0]) if error["loc"] else SIMPLIFIED
        if error["type"] == "string_too_short":
            raise TemplateError(
                f"[{SIMPLIFIED}] {where} has an empty name or phrase, which would match "
                "everywhere: remove it",
                path=path,
            ) from None
        raise TemplateError(
            f'[{SIMPLIFIED}] {where}: {error["msg"]}; write phrases as "隨著" = "随着" and '
            'keep as a list of names, keep = ["灣仔"]',
            path=path,
        ) from None


def converter_for(article: Article, settings: Settings, rules: EditionRules) -> Converter | None:
    """The zh-Hans converter for this article, or None when it gets no converted edition."""
    if settings.zh_hans_edition == SimplifiedEdition.OFF or canonical(article.lang) != TRADITIONAL:
        return None
    if SIMPLIFIED in {canonical(lang) for lang in article.meta.editions}:
        return None  # the editor wrote it
    phrases = {**rules.phrases, **article.meta.phrases}
    return Converter(settings.zh_hans_edition, phrases, (*rules.keep, *article.meta.keep))


def article_editions(article: Article, settings: Settings) -> ArticleEditions:
    """The original, then the zh-Hans conversion, then the written editions in front matter order."""
    rules = load_rules(settings.templates_dir)
    articles = {article.lang: article}
    converter = converter_for(article, settings, rules)
    conversion = None
    if converter is not None:
        conversion = converter.markdown(article.source, _code_lines(article))
        articles[SIMPLIFIED] = _converted(article, conversion)
    for lang, name in article.meta.editions.items():
        edition = canonical(lang)
        if edition in articles:
            raise ArticleError(
                f"front matter 'editions' names {lang!r} twice (or the article's own language)",
                path=article.path,
                line=article.line_of("editions"),
            )
        articles[edition] = _written(article, edition, name)
    return ArticleEditions(articles, conversion, converter, rules)


def _code_lines(article: Article) -> set[int]:
    """Lines of the source (0-based) inside fenced or indented code blocks."""
    first = article.body_line - 1
    return {
        first + line
        for token in markdown.parse(article.body)
        if token.type in ("fence", "code_block") and token.map
        for line in range(token.map[0], token.map[1])
    }


def _converted(article: Article, conversion: Conversion) -> Article:
    """The converted source read as an article (same lines, so errors point at the original)."""
    edition = parse_article(conversion.text, article.path)
    meta = edition.meta.model_copy(update={"lang": SIMPLIFIED})
    return dataclasses.replace(edition, meta=meta, slug=article.slug)


def _written(article: Article, edition: str, name: str) -> Article:
    path = (article.path.parent / name).resolve()
    if path == article.path.resolve():
        raise ArticleError(
            f"front matter 'editions' names this file itself for {edition}",
            path=article.path,
            line=article.line_of("editions"),
        )
    if not path.is_file():
        raise ArticleError(
            f"front matter 'editions' names {name} for {edition}, but there is no such file "
            f"beside {article.path.name}; fix the name or remove the line",
            path=article.path,
            line=article.line_of("editions"),
        )
    written = read_article(path)
    if canonical(written.lang) != edition:
        raise ArticleError(
            f"front matter 'lang' is {written.lang!r}, but {article.path.name} names this file as "
            f"its {edition} edition; make them agree",
            path=path,
            line=written.line_of("lang"),
        )
    if written.meta.editions:
        raise ArticleError(
            "an edition names editions of its own; list them all in the original's front matter",
            path=path,
            line=written.line_of("editions"),
        )
    meta = written.meta.model_copy(update={"lang": edition})  # zh-CN is the zh-Hans edition
    return dataclasses.replace(written, slug=article.slug, meta=meta)
