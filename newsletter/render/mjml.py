"""Stage 2: MJML -> responsive HTML with mjml-python (MRML), without any remote font."""

from __future__ import annotations

from pathlib import Path

import mjml

from newsletter.errors import TemplateError

__all__ = ["compile_mjml"]


def compile_mjml(source: str, template: Path) -> str:
    """Compile MJML; ``fonts={}`` drops MJML's default Google Fonts link (no network, no Outlook
    Times New Roman fallback)."""
    try:
        return mjml.mjml2html(source, fonts={})
    except ValueError as exc:
        raise TemplateError(
            f"MJML did not compile ({exc}): look for an unclosed, misspelt or misplaced "
            "mj- element in this template",
            path=template,
        ) from None
