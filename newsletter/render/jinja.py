"""Stage 1: Jinja2 renders templates/*.j2 with the article as data, never as template code."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2

from newsletter.errors import TemplateError

__all__ = ["render_template"]


@cache
def _environment(templates_dir: Path) -> jinja2.Environment:
    """One environment per templates folder: compiling a template costs 60x rendering it."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("mjml.j2", "html.j2"), default=False
        ),
        keep_trailing_newline=True,
        auto_reload=True,
    )


def render_template(templates_dir: Path, name: str, context: dict[str, Any]) -> str:
    """Render one template; a missing variable or bad syntax names the template file and line."""
    path = templates_dir / name
    try:
        template = _environment(templates_dir.resolve()).get_template(name)
        return template.render(context)
    except jinja2.TemplateNotFound:
        raise TemplateError(
            "template not found; restore it from the repository", path=path
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"template syntax error: {exc.message}", path=path, line=exc.lineno
        ) from None
    except jinja2.UndefinedError as exc:
        line = _template_line(exc.__traceback__, str(path.resolve()))
        raise TemplateError(
            f"{exc.message}; use a variable the renderer provides (see docs/composing.md#templates)",
            path=path,
            line=line,
        ) from None


def _template_line(tb: TracebackType | None, filename: str) -> int | None:
    """Jinja2 rewrites tracebacks so template frames carry the template's own line numbers."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
