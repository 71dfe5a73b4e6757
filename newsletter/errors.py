"""The project's exception tree; the CLI turns any of these into one red line and exit code 1.

* NewsletterError      a user-fixable problem: says what, where and how to fix it
  + ConfigError        newsletter.toml, NEWSLETTER_* variables or .env
  + ArticleError       front matter or Markdown of an article
  + TemplateError      a Jinja2, MJML or strings file under templates/
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ArticleError",
    "ConfigError",
    "NewsletterError",
    "TemplateError",
    "file_problem",
    "one_line",
]


def one_line(text: str) -> str:
    """Whatever a library said, on one line: a refusal from PostgreSQL spans several."""
    return " ".join(str(text).split())


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


def file_problem(exc: OSError) -> NewsletterError:
    """A file or folder the user named (or set) that cannot be read or written, in one line."""
    where = exc.filename if exc.filename is not None else "a file"
    reason = exc.strerror or type(exc).__name__
    hints = {
        IsADirectoryError: "; give a file, not a folder",
        NotADirectoryError: "; a part of that path is a file, not a folder",
        PermissionError: "; check its permissions",
        FileNotFoundError: "; check the path",
    }
    return NewsletterError(f"{where}: {reason.lower()}{hints.get(type(exc), '')}")


class ConfigError(NewsletterError):
    """A setting is missing or invalid."""


class ArticleError(NewsletterError):
    """The article cannot be read as front matter plus Markdown."""


class TemplateError(NewsletterError):
    """A template under templates/ fails to render or compile."""
