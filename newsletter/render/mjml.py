"""Stage 2: MJML -> responsive HTML with mjml-python (MRML), without any remote font."""

from __future__ import annotations

import re
from pathlib import Path

import mjml

from newsletter.errors import TemplateError

__all__ = ["MJML_ELEMENTS", "compile_mjml"]

MJML_ELEMENTS = frozenset(
    [
        "mjml",
        "mj-head",
        "mj-body",
        "mj-attributes",
        "mj-all",
        "mj-class",
        "mj-breakpoint",
        "mj-font",
        "mj-html-attributes",
        "mj-html-attribute",
        "mj-selector",
        "mj-preview",
        "mj-style",
        "mj-title",
        "mj-raw",
        "mj-include",
        "mj-accordion",
        "mj-accordion-element",
        "mj-accordion-title",
        "mj-accordion-text",
        "mj-button",
        "mj-carousel",
        "mj-carousel-image",
        "mj-column",
        "mj-divider",
        "mj-group",
        "mj-hero",
        "mj-image",
        "mj-navbar",
        "mj-navbar-link",
        "mj-section",
        "mj-social",
        "mj-social-element",
        "mj-spacer",
        "mj-table",
        "mj-text",
        "mj-wrapper",
    ]
)
"""MJML 4 elements. MRML renders a misspelt one as raw HTML instead of failing, so we check."""
_TAG = re.compile(r"</?(mj(?:ml|-[a-z-]+))\b")


def compile_mjml(source: str, template: Path) -> str:
    """Compile MJML; ``fonts={}`` drops MJML's default Google Fonts link (no network, no Outlook
    Times New Roman fallback)."""
    for match in _TAG.finditer(source):
        if match.group(1) not in MJML_ELEMENTS:
            line = source.count("\n", 0, match.start()) + 1
            raise TemplateError(
                f"unknown MJML element <{match.group(1)}> (line {line} of the rendered MJML); "
                "check its spelling in this template",
                path=template,
            )
    try:
        return mjml.mjml2html(source, fonts={})
    except ValueError as exc:
        raise TemplateError(
            f"MJML did not compile ({exc}): look for an unclosed, misspelt or misplaced "
            "mj- element in this template",
            path=template,
        ) from None
