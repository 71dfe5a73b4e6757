"""Size rules: what Gmail clips or drops, and what an inbox row shows of subject and preheader."""

from __future__ import annotations

from collections.abc import Iterator

from newsletter.compose.reading import display_width
from newsletter.qa.findings import Finding, Inspection

__all__ = ["CLIP_LIMIT", "CLIP_WARN", "PREVIEW_WIDTH", "STYLE_LIMIT", "preview", "size"]

CLIP_LIMIT = 102_000
"""Gmail hides everything after about 102 KB of HTML behind "[Message clipped]"."""


CLIP_WARN = 90_000
"""Warn with room to spare: the limit is empirical and counted on what Gmail receives."""


STYLE_LIMIT = 16_384
"""Gmail drops every <style> block when they add up to more than this."""


PREVIEW_WIDTH = 100
"""Inbox rows show about 100 columns of subject or preview text (50 CJK characters)."""


def size(i: Inspection) -> Iterator[Finding]:
    html_bytes = len(i.sample.html.encode("utf-8"))
    fix = "shorten the article, or split it over two issues"
    if html_bytes > CLIP_LIMIT:
        yield Finding(
            "error",
            "gmail-clip",
            f"HTML is {html_bytes:,} bytes, over Gmail's {CLIP_LIMIT:,}-byte clip: the footer with the unsubscribe link would be hidden",
            "email.html",
            fix,
        )
    elif html_bytes > CLIP_WARN:
        yield Finding(
            "warning",
            "gmail-clip",
            f"HTML is {html_bytes:,} bytes, within {CLIP_LIMIT - html_bytes:,} of Gmail's clip",
            "email.html",
            fix,
        )
    if i.sample.html_part_bytes > CLIP_LIMIT:
        yield Finding(
            "warning",
            "gmail-clip-encoded",
            f"the encoded HTML part is {i.sample.html_part_bytes:,} bytes; some Gmail clients may clip it",
            "email.eml",
            fix,
        )
    style_bytes = sum(len((s.text or "").encode("utf-8")) for s in i.tree.iter("style"))
    if style_bytes > STYLE_LIMIT:
        yield Finding(
            "error",
            "style-budget",
            f"<style> blocks hold {style_bytes:,} bytes; Gmail drops them all above {STYLE_LIMIT:,}",
            "templates/email.mjml.j2",
            "remove unused rules from mj-style",
        )


def preview(i: Inspection) -> Iterator[Finding]:
    subject, preheader = i.issue.subject.strip(), i.issue.preheader.strip()
    if i.article.preheader_derived:
        yield Finding(
            "warning",
            "preheader-missing",
            "no preheader: the inbox preview is cut from the first paragraph",
            f"{i.article.path} front matter",
            "add 'preheader:' with a sentence that says what is new",
        )
    if preheader == subject:
        yield Finding(
            "warning",
            "preheader-subject",
            "the preheader repeats the subject, so the preview says nothing new",
            f"{i.article.path} front matter",
            "write a preheader that adds to the subject",
        )
    if display_width(preheader) > PREVIEW_WIDTH:
        yield Finding(
            "warning",
            "preheader-long",
            f"the preheader is {display_width(preheader)} columns; inbox rows show about {PREVIEW_WIDTH}",
            f"{i.article.path} front matter",
            "front-load it and cut it to about 50 CJK or 100 Latin characters",
        )
    if display_width(subject) > PREVIEW_WIDTH:
        yield Finding(
            "warning",
            "subject-long",
            f"the subject is {display_width(subject)} columns; inbox rows cut it near {PREVIEW_WIDTH // 2}-{PREVIEW_WIDTH}",
            f"{i.article.path} front matter",
            "set a shorter 'subject:'",
        )
    if not i.article.body.strip():
        yield Finding(
            "warning",
            "empty-body",
            "the article has no body text",
            str(i.article.path),
            "write the article below the front matter",
        )
