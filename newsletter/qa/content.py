"""Content rules: images that are missing, heavy or unlabelled, and links that mislead or break."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from newsletter.compose import markdown
from newsletter.compose.punctuation import mixed_marks
from newsletter.qa.findings import Finding, Inspection

__all__ = ["IMAGE_MAX_BYTES", "VAGUE_LINK_TEXT", "images", "links", "punctuation"]

IMAGE_MAX_BYTES = 2**20
"""A local picture over 1 MiB costs a phone reader seconds on mobile data."""


VAGUE_LINK_TEXT = {
    "click here",
    "here",
    "read more",
    "more",
    "link",
    "this link",
    "按此",
    "點此",
    "点此",
    "這裡",
    "这里",
    "更多",
}


_RAW_IMG = re.compile(r"<img\b[^>]*>", re.I)
_RAW_ALT = re.compile(r"\salt\s*=", re.I)
_RAW_SRC = re.compile(r"""\ssrc\s*=\s*["']([^"']*)["']""", re.I)


def images(i: Inspection) -> Iterator[Finding]:
    unlabelled = _written_without_alt(i)
    for img in i.tree.iter("img"):
        src = str(img.get("src", ""))
        if img.get("alt") is None or src in unlabelled:
            yield Finding(
                "warning",
                "image-alt",
                f"image without alt text: {src}",
                src,
                "describe the picture in the alt text",
            )
        elif not img.get("alt", "").strip():
            yield Finding(
                "warning",
                "image-alt-empty",
                f"image with empty alt text (fine only if decorative): {src}",
                src,
                "describe it unless it is decoration",
            )
        if not src.startswith("https://"):
            yield Finding(
                "error",
                "image-https",
                f"image is not https: {src}",
                src,
                "serve the image over https",
            )
        if not img.get("width"):
            yield Finding(
                "warning",
                "image-width",
                f"image without a width attribute: {src}",
                src,
                "give it a width (Outlook ignores CSS sizes)",
            )
        yield from _local_image(i.article.path.parent, src)


def _written_without_alt(i: Inspection) -> set[str]:
    """Images the article's raw HTML gave no alt: the email carries alt="" for them, but the
    editor should still write one."""
    pieces = (html for _, html in markdown.raw_html(i.body_tokens))
    return {
        source.group(1)
        for piece in pieces
        for tag in _RAW_IMG.findall(piece)
        if not _RAW_ALT.search(tag) and (source := _RAW_SRC.search(tag))
    }


def _local_image(base: Path, src: str) -> Iterator[Finding]:
    """A picture still on the editor's disk: too heavy for a phone on mobile data, or missing."""
    if not src or urlsplit(src).scheme or src.startswith("//"):
        return
    path = base / unquote(src.split("?", 1)[0])
    if not path.is_file():
        yield Finding(
            "error",
            "image-missing",
            f"local image not found: {path}",
            src,
            "fix the path, relative to the article",
        )
    elif (size := path.stat().st_size) > IMAGE_MAX_BYTES:
        yield Finding(
            "warning",
            "image-heavy",
            f"local image is {size / 2**20:.1f} MiB, over {IMAGE_MAX_BYTES // 2**20} MiB: slow on a phone, and some clients drop it",
            src,
            "resize it to at most twice the width it shows at and compress it",
        )


def links(i: Inspection) -> Iterator[Finding]:
    for link in i.tree.iter("a"):
        href = link.get("href")
        text = " ".join(link.text_content().split())
        label = f'link "{text[:40]}"'
        if href is None or href.strip() in ("", "#"):
            yield Finding(
                "error",
                "link-empty",
                f"{label} goes nowhere",
                href or "",
                "give the link its address",
            )
        elif href.lower().startswith("javascript:"):
            yield Finding(
                "error",
                "link-javascript",
                f"{label} runs javascript:",
                href,
                "link to a web page instead",
            )
        elif "@@nl." in href or "{{" in href or "{%" in href:
            yield Finding(
                "error",
                "link-leftover",
                f"{label} holds an unfilled placeholder or template code",
                href,
                "fix the template that prints this link",
            )
        elif not href.startswith(("https://", "mailto:", "tel:")):
            yield Finding(
                "warning", "link-https", f"{label} is not https", href, "use the https address"
            )
        if text.lower().strip(" .!:：。") in VAGUE_LINK_TEXT:
            yield Finding(
                "warning",
                "link-text",
                f"{label} does not say where it goes",
                href,
                "use words that name the destination",
            )


def punctuation(i: Inspection) -> Iterator[Finding]:
    """Chinese text with half-width ,:() in it reads as mixed: the footer and preheader are full-width."""
    if not i.article.lang.startswith("zh"):
        return
    words = [
        child.content
        for token in i.body_tokens
        if token.type == "inline"
        for child in token.children or ()
        if child.type == "text"  # not code, not URLs in links
    ]
    marks = mixed_marks("\n".join([i.article.meta.title, *words]))
    if marks:
        yield Finding(
            "warning",
            "mixed-punctuation",
            f"{len(marks)} half-width marks in Chinese text, such as “{marks[0].strip()}”",
            str(i.article.path),
            "use full-width ，：；！？（） between Chinese characters; `newsletter new --from` "
            "converts a blog paste",
        )
