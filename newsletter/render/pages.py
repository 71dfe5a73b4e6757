"""The subscriber-facing pages: templates/web/*.html.j2 with the strings of templates/web/strings.toml.

The pages live beside the email templates so a newsletter restyles both in one place. Each
page is in the subscriber's language when we know it, else the browser's, else English.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2

from newsletter.compose.locales import read_strings_file
from newsletter.config import Settings
from newsletter.errors import TemplateError
from newsletter.languages import canonical

__all__ = ["DEFAULT_LANG", "Pages", "Strings"]

DEFAULT_LANG = "en"
STRINGS_FILE = "web/strings.toml"


class Strings(dict[str, str]):
    """One language's strings; attribute access for templates (``t.unsubscribe_button``)."""

    def __getattr__(self, key: str) -> str:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


@dataclass(frozen=True)
class Pages:
    settings: Settings
    root: str = ""
    """Prefix of every link: the path part of base_url ("" when the site is at its root)."""

    @classmethod
    def of_site(cls, settings: Settings) -> Pages:
        """The pages as served at base_url (on the server and in the static archive alike)."""
        return cls(settings, root=urlsplit(settings.base_url).path.rstrip("/"))

    @cached_property
    def strings(self) -> dict[str, Strings]:
        return _load_strings(self.settings.templates_dir / STRINGS_FILE, self.settings)

    @cached_property
    def _environment(self) -> jinja2.Environment:
        return jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.settings.templates_dir / "web"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    @property
    def languages(self) -> list[tuple[str, str]]:
        return [(code, s.language_name) for code, s in self.strings.items()]

    def lang(self, *preferred: str | None, accept: str | None = None) -> str:
        """The first known language among ``preferred``, then Accept-Language, then English."""
        for candidate in (*preferred, *_accepted(accept)):
            match = self._match(candidate)
            if match:
                return match
        return DEFAULT_LANG if DEFAULT_LANG in self.strings else next(iter(self.strings))

    def render(self, template: str, lang: str, **context: Any) -> str:
        t = self.strings[lang]
        title = context.pop("title_key", None)
        return self._environment.get_template(template).render(
            lang=lang,
            t=t,
            title=t[title] if title else context.pop("title", ""),
            newsletter=self.settings.newsletter_name,
            postal_address=self.settings.postal_address,
            root=self.root,
            **context,
        )

    def stylesheet(self) -> str:
        return self._environment.get_template("site.css.j2").render(
            accent_color=self.settings.accent_color
        )

    def _match(self, candidate: str | None) -> str | None:
        if not candidate:
            return None
        lowered = {code.lower(): code for code in self.strings}
        tag = canonical(candidate.strip()).lower()  # zh-CN reads zh-Hans, zh-HK zh-Hant
        if tag in lowered:
            return lowered[tag]
        if tag == "zh" and "zh-hant" in lowered:  # no script named: the original's
            return lowered["zh-hant"]
        return lowered.get(tag.split("-")[0])


def _accepted(header: str | None) -> list[str]:
    """Accept-Language tags, best first (quality values respected, malformed ones skipped)."""
    if not header:
        return []
    ranked = []
    for position, item in enumerate(header.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*":
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def _load_strings(path: Path, settings: Settings) -> dict[str, Strings]:
    data = read_strings_file(path, "page strings")
    if DEFAULT_LANG not in data:
        raise TemplateError(f"needs an [{DEFAULT_LANG}] table", path=path)
    keys = set(data[DEFAULT_LANG])
    loaded = {}
    for lang, table in data.items():
        missing = sorted(keys - set(table))
        if missing:
            raise TemplateError(
                f"[{lang}] is missing {', '.join(missing)}; copy them from [en]", path=path
            )
        loaded[lang] = Strings(
            {k: str(v).replace("{newsletter}", settings.newsletter_name) for k, v in table.items()}
        )
    return loaded
