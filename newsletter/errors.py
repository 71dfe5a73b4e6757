"""The project's exception tree; the CLI turns any of these into one red line and exit code 1.

* NewsletterError      a user-fixable problem: says what, where and how to fix it
  + ConfigError        newsletter.toml, NEWSLETTER_* variables or .env
  + ArticleError       front matter or Markdown of an article
  + TemplateError      a Jinja2, MJML or strings file under templates/
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ArticleError", "ConfigError", "NewsletterError", "TemplateError"]


class NewsletterError(Exception):
    """A problem the user can fix; the message is complete and fits on one line."""

    def __init__(self, message: str, *, path: Path | str | None = None, line: int | None = None):
        self.path = Path(path) if path is not None else None
        self.line = line
        super().__init__(message)

    def __str__(self) -> str:
        message = super().__str__()
        if self.path is None:
            return message
        where = str(self.path) if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {message}"


class ConfigError(NewsletterError):
    """A setting is missing or invalid."""


class ArticleError(NewsletterError):
    """The article cannot be read as front matter plus Markdown."""


class TemplateError(NewsletterError):
    """A template under templates/ fails to render or compile."""
