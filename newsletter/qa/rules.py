"""Pre-send QA: the rules that say what would clip, break, shut out a reader or break the law.

Each rule reads the sample reader's finished message (the HTML and text a subscriber gets,
and its headers) and returns findings with a severity, where the problem is and how to fix
it. `newsletter check` prints them; `newsletter build` counts them; an error fails both.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

import lxml.html
from lxml.html import HtmlElement

from newsletter.compose.article import Article
from newsletter.compose.reading import display_width
from newsletter.config import Settings
from newsletter.qa.compatibility import ACCEPTED_FILE, accepted, features_used, support
from newsletter.qa.spam import SpamScore
from newsletter.render.issue import RecipientFields, RenderedIssue
from newsletter.render.mime import Composed

__all__ = ["CLIP_LIMIT", "CLIP_WARN", "STYLE_LIMIT", "Finding", "Inspection", "run_rules"]

CLIP_LIMIT = 102_000
"""Gmail hides everything after about 102 KB of HTML behind "[Message clipped]"."""
CLIP_WARN = 90_000
"""Warn with room to spare: the limit is empirical and counted on what Gmail receives."""
STYLE_LIMIT = 16_384
"""Gmail drops every <style> block when they add up to more than this."""
PREVIEW_WIDTH = 100
"""Inbox rows show about 100 columns of subject or preview text (50 CJK characters)."""
SPAM_WARN, SPAM_ERROR = 1.0, 5.0
MIN_CONTRAST = 4.5
IMAGE_MAX_BYTES = 2**20
"""A local picture over 1 MiB costs a phone reader seconds on mobile data."""
MIN_FONT_PX = 14
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

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    message: str
    where: str = ""
    fix: str = ""


@dataclass(frozen=True)
class Inspection:
    """Everything a rule may look at, parsed once."""

    article: Article
    issue: RenderedIssue
    sample: Composed
    fields: RecipientFields
    settings: Settings
    tree: HtmlElement

    @classmethod
    def of(
        cls,
        article: Article,
        issue: RenderedIssue,
        sample: Composed,
        fields: RecipientFields,
        settings: Settings,
    ) -> Inspection:
        tree = lxml.html.document_fromstring(sample.html.encode("utf-8"))
        return cls(article, issue, sample, fields, settings, tree)


Rule = Callable[[Inspection], Iterator[Finding]]


def run_rules(inspection: Inspection) -> list[Finding]:
    """Every rule's findings, errors first."""
    findings = [finding for rule in RULES for finding in rule(inspection)]
    return sorted(findings, key=lambda f: f.severity != "error")


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


def images(i: Inspection) -> Iterator[Finding]:
    for img in i.tree.iter("img"):
        src = str(img.get("src", ""))
        if img.get("alt") is None:
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
        if href is None:
            continue
        text = " ".join(link.text_content().split())
        label = f'link "{text[:40]}"'
        if href.strip() in ("", "#"):
            yield Finding(
                "error", "link-empty", f"{label} goes nowhere", href, "give the link its address"
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


def compliance(i: Inspection) -> Iterator[Finding]:
    unsubscribe_url = i.fields.unsubscribe_url
    unsubscribe = i.sample.html.find(unsubscribe_url)
    text = i.sample.text
    if unsubscribe < 0:
        yield Finding(
            "error",
            "unsubscribe-html",
            "no unsubscribe link in the HTML",
            "templates/email.mjml.j2",
            "print recipient.unsubscribe_url in the footer",
        )
    elif unsubscribe > CLIP_LIMIT:
        yield Finding(
            "error",
            "unsubscribe-clipped",
            "the unsubscribe link comes after Gmail's clip",
            "email.html",
            "shorten the article",
        )
    if unsubscribe_url not in text:
        yield Finding(
            "error",
            "unsubscribe-text",
            "no unsubscribe link in the plain-text part",
            "templates/email.txt.j2",
            "print recipient.unsubscribe_url",
        )
    address = i.settings.postal_address
    if address not in i.tree.text_content() or i.sample.html.find(address) > CLIP_LIMIT:
        yield Finding(
            "error",
            "postal-html",
            "the postal address is missing from the HTML or comes after the clip",
            "templates/email.mjml.j2",
            "print postal_address in the footer",
        )
    if address not in text:
        yield Finding(
            "error",
            "postal-text",
            "the postal address is missing from the plain-text part",
            "templates/email.txt.j2",
            "print postal_address",
        )
    head = i.sample.data.split(b"\r\n\r\n", 1)[0]
    for header in (b"List-Unsubscribe:", b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"):
        if header not in head:
            yield Finding(
                "error",
                "list-unsubscribe",
                f"the message lacks {header.decode().rstrip(':')}",
                "email.eml",
                "send through newsletter's MessageBuilder",
            )


def accessibility(i: Inspection) -> Iterator[Finding]:
    lang = i.tree.get("lang")
    if lang != i.article.lang:
        yield Finding(
            "error",
            "lang",
            f'<html lang="{lang}"> but the article is {i.article.lang}',
            "templates/email.mjml.j2",
            'keep <mjml lang="{{ lang }}">',
        )
    levels = [int(h.tag[1]) for h in i.tree.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    if levels.count(1) != 1:
        yield Finding(
            "error",
            "h1",
            f"{levels.count(1)} h1 headings; a page needs exactly one (the title)",
            "email.html",
            "use ## for sections in the article",
        )
    for before, after in itertools.pairwise(levels):
        if after > before + 1:
            yield Finding(
                "warning",
                "heading-skip",
                f"heading level jumps from h{before} to h{after}",
                "article headings",
                "do not skip a level (## then ###)",
            )
            break
    for table in i.tree.iter("table"):
        if table.get("role") != "presentation" and not table.findall(".//th"):
            yield Finding(
                "warning",
                "table-role",
                'a layout table without role="presentation"',
                "email.html",
                'add role="presentation", or th cells for a data table',
            )
    yield from _contrast_and_size(i)


def client_support(i: Inspection) -> Iterator[Finding]:
    """Features some of Gmail, Outlook, Apple Mail, Yahoo and Samsung Email lack, unless accepted."""
    for slug in sorted(features_used(i.tree) - accepted(i.settings.templates_dir)):
        info = support(slug)
        if not info.unsupported and not info.partial:
            continue
        parts = [f"not supported in {', '.join(info.unsupported)}" if info.unsupported else "",
                 f"partly in {', '.join(info.partial)}" if info.partial else ""]  # fmt: skip
        yield Finding(
            "warning",
            "client-support",
            f"{info.title}: " + "; ".join(p for p in parts if p),
            slug,
            f"use a better supported alternative, or list {slug} in templates/{ACCEPTED_FILE} if a fallback covers it",
        )


def _contrast_and_size(i: Inspection) -> Iterator[Finding]:
    """Every element with text of its own, with the colour, background and size it inherits."""
    seen: set[tuple[str, str]] = set()
    for element in i.tree.iter():
        if not isinstance(element.tag, str) or not (element.text or "").strip() or _hidden(element):
            continue
        size_px = _inherited(element, r"font-size:\s*(\d+(?:\.\d+)?)px")
        if size_px and float(size_px) < MIN_FONT_PX and ("size", size_px) not in seen:
            seen.add(("size", size_px))
            yield Finding(
                "warning",
                "font-size",
                f"{size_px}px text in <{element.tag}>; {MIN_FONT_PX}px is the least comfortable size",
                "templates/email.mjml.j2",
                f"use at least {MIN_FONT_PX}px",
            )
        colour = _inherited(element, r"(?<![-\w])color:\s*(#[0-9a-f]{3,6})\b")
        if not colour:
            continue
        background = _background(element)
        ratio = _contrast(colour, background)
        if ratio < MIN_CONTRAST and (colour, background) not in seen:
            seen.add((colour, background))
            yield Finding(
                "error",
                "contrast",
                f"text {colour} on {background} has contrast {ratio:.1f}:1, under {MIN_CONTRAST}:1 (WCAG AA)",
                "templates/email.mjml.j2 or accent_color",
                "darken the text or lighten the background",
            )


def _inherited(element: HtmlElement, pattern: str) -> str | None:
    for e in (element, *element.iterancestors()):
        if match := re.search(pattern, _style(e)):
            return match.group(1)
    return None


def _style(element: HtmlElement) -> str:
    return (element.get("style") or "").lower()


def _hidden(element: HtmlElement) -> bool:
    return any(
        "display:none" in _style(e).replace(" ", "") for e in (element, *element.iterancestors())
    )


def _background(element: HtmlElement) -> str:
    """The nearest background colour, from CSS or an old bgcolor attribute; white by default."""
    for e in (element, *element.iterancestors()):
        if css := re.search(r"background(?:-color)?:\s*(#[0-9a-f]{3,6})\b", _style(e)):
            return css.group(1)
        if re.fullmatch(r"#[0-9a-fA-F]{3,6}", e.get("bgcolor") or ""):
            return str(e.get("bgcolor")).lower()
    return "#ffffff"


def _luminance(colour: str) -> float:
    hex_digits = colour.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    channels = [int(hex_digits[k : k + 2], 16) / 255 for k in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def spam_findings(score: SpamScore) -> list[Finding]:
    """SpamAssassin's verdict on the sample message: a warning from 1.0, an error from 5.0."""
    if score.score < SPAM_WARN:
        return []
    severity: Severity = "error" if score.score >= SPAM_ERROR else "warning"
    message = f"SpamAssassin scores the message {score.score:.1f} ({', '.join(score.rules)})"
    return [
        Finding(
            severity,
            "spam-score",
            message,
            "email.eml",
            "look up each rule above and change what triggers it",
        )
    ]


RULES: tuple[Rule, ...] = (size, preview, images, links, compliance, accessibility, client_support)
