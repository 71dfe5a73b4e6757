"""Each QA rule stays quiet on the sample and fires on a message that breaks it."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from newsletter.compose.article import read_article
from newsletter.config import Settings
from newsletter.qa.build import sample_recipient
from newsletter.qa.findings import Inspection
from newsletter.qa.rules import run_rules
from newsletter.render import render_issue
from newsletter.render.mime import MessageBuilder
from tests.conftest import SAMPLE_ARTICLE


def inspect(settings, path=SAMPLE_ARTICLE) -> Inspection:
    article = read_article(path)
    issue = render_issue(article, settings)
    builder = MessageBuilder(issue, settings, campaign="qa")
    envelope = builder.envelope(sample_recipient(settings))
    return Inspection.of(article, issue, builder.message(envelope), envelope.fields, settings)


def altered(inspection: Inspection, *, html=None, text=None, data=None) -> Inspection:
    sample = dataclasses.replace(
        inspection.sample,
        html=html if html is not None else inspection.sample.html,
        text=text if text is not None else inspection.sample.text,
        data=data if data is not None else inspection.sample.data,
    )
    return Inspection.of(
        inspection.article, inspection.issue, sample, inspection.fields, inspection.settings
    )


def codes(inspection: Inspection) -> set[str]:
    return {f.code for f in run_rules(inspection)}


def test_the_sample_issue_passes_every_rule_but_the_shipped_identity(settings) -> None:
    """Its settings are the shipped examples: fine for a try, named so nobody sends with them."""
    codes = [finding.code for finding in run_rules(inspect(settings))]
    assert codes == ["example-secret", "example-identity"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda h: h.replace("</h1>", "</h1><h1>Second title</h1>", 1), "h1"),
        (lambda h: h.replace('lang="zh-Hant"', 'lang="en"', 1), "lang"),
        (
            lambda h: h.replace(
                'role="presentation" align="center" style="border',
                'align="center" style="border',
                1,
            ),
            "table-role",
        ),
        (lambda h: h.replace("color:#57606a", "color:#c8ccd0"), "contrast"),
        (lambda h: h.replace("</body>", '<p style="color:red">on white</p></body>'), "contrast"),
        (
            lambda h: h.replace("</body>", '<p style="color: rgb(160, 160, 160)">grey</p></body>'),
            "contrast",
        ),
        (
            lambda h: h.replace("color: #9da7b3 !important", "color: #30363d !important"),
            "contrast-dark",
        ),
        (lambda h: h.replace("font-size:14px", "font-size:11px", 1), "font-size"),
        (
            lambda h: h.replace("</body>", '<img src="http://example.com/x.png"></body>'),
            "image-https",
        ),
        (
            lambda h: h.replace(
                "</body>", '<img src="https://example.com/x.png" width="10"></body>'
            ),
            "image-alt",
        ),
        (
            lambda h: h.replace("</body>", '<img src="https://example.com/x.png" alt="x"></body>'),
            "image-width",
        ),
        (lambda h: h.replace("</body>", '<a href="#">menu</a></body>'), "link-empty"),
        (
            lambda h: h.replace("</body>", "<a>a template link without href</a></body>"),
            "link-empty",
        ),
        (
            lambda h: h.replace("</body>", '<a href="javascript:go()">go</a></body>'),
            "link-javascript",
        ),
        (
            lambda h: h.replace("</body>", '<a href="https://example.com/{{ name }}">x</a></body>'),
            "link-leftover",
        ),
        (
            lambda h: h.replace("</body>", '<a href="http://example.com/">the archive</a></body>'),
            "link-https",
        ),
        (
            lambda h: h.replace("</body>", '<a href="https://example.com/">按此</a></body>'),
            "link-text",
        ),
        (
            lambda h: h.replace("</head>", "<style>" + "a{color:red}" * 1500 + "</style></head>"),
            "style-budget",
        ),
        (lambda h: h.replace("</body>", "<p>" + "長" * 40_000 + "</p></body>"), "gmail-clip"),
    ],
)
def test_a_broken_html_part_is_reported(settings, change, code: str) -> None:
    base = inspect(settings)
    assert code in codes(altered(base, html=change(base.sample.html)))


def test_a_missing_unsubscribe_link_or_address_is_an_error(settings) -> None:
    base = inspect(settings)
    url, address = base.fields.unsubscribe_url, settings.postal_address
    assert "unsubscribe-html" in codes(
        altered(base, html=base.sample.html.replace(url, "https://example.com/"))
    )
    assert "unsubscribe-text" in codes(altered(base, text=base.sample.text.replace(url, "")))
    first_part = address.split(", ")[0]  # the footer prints the address in unbreakable parts
    assert "postal-html" in codes(altered(base, html=base.sample.html.replace(first_part, "")))
    assert "postal-text" in codes(altered(base, text=base.sample.text.replace(address, "")))
    headless = base.sample.data.replace(
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", b""
    )
    assert "list-unsubscribe" in codes(altered(base, data=headless))
    unsubscribe_late = base.sample.html.replace("<body", "<body><!--" + "x" * 103_000 + "-->", 1)
    assert "unsubscribe-clipped" in codes(altered(base, html=unsubscribe_late))


def test_preview_text_rules(settings, write_article) -> None:
    assert "preheader-missing" in codes(inspect(settings, write_article("Only a paragraph.")))
    same = write_article("Body.", preheader="A test issue")
    assert "preheader-subject" in codes(inspect(settings, same))
    long = write_article("Body.", preheader="很長的預覽文字" * 10, subject="很長的標題文字" * 10)
    assert {"preheader-long", "subject-long"} <= codes(inspect(settings, long))


def test_skipped_heading_levels_are_reported(settings, write_article) -> None:
    assert "heading-skip" in codes(
        inspect(settings, write_article("## Part\n\ntext\n\n#### Detail\n\ntext", preheader="x y"))
    )


def test_a_feature_some_clients_lack_is_reported_with_their_names(settings) -> None:
    base = inspect(settings)
    fixed = altered(
        base, html=base.sample.html.replace("</body>", '<div style="position:fixed">x</div></body>')
    )
    (finding,) = [f for f in run_rules(fixed) if f.code == "client-support"]
    assert finding.where == "css-position" and finding.severity == "warning"
    assert (
        "not supported in Gmail (Desktop Webmail)" in finding.message
        and "Outlook (Windows)" in finding.message
    )


def test_only_features_not_accepted_for_the_template_are_reported(settings, tmp_path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(settings.templates_dir, templates)
    (templates / "caniemail-accepted.txt").unlink()
    bare = inspect(Settings(**{**settings.model_dump(), "templates_dir": templates}))
    slugs = {f.where for f in run_rules(bare) if f.code == "client-support"}
    assert {"css-at-media", "css-border-radius"} <= slugs  # MJML's own, now unlisted


def test_a_local_image_over_one_mebibyte_is_flagged_and_a_small_one_is_not(
    settings, tmp_path
) -> None:
    article = tmp_path / "issue.md"
    shutil.copy(SAMPLE_ARTICLE, article)
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "big chart.png").write_bytes(b"\x89PNG" + bytes(2**20))
    (tmp_path / "img" / "small.png").write_bytes(b"\x89PNG" + bytes(1000))
    base = inspect(settings, article)
    heavy = '<img src="img/big%20chart.png" alt="chart" width="552">'
    light = '<img src="img/small.png" alt="chart" width="552">'
    findings = run_rules(altered(base, html=base.sample.html.replace("</body>", heavy + "</body>")))
    (finding,) = [f for f in findings if f.code == "image-heavy"]
    assert "1.0 MiB" in finding.message and finding.where == "img/big%20chart.png"
    assert "image-heavy" not in codes(
        altered(base, html=base.sample.html.replace("</body>", light + "</body>"))
    )


def test_a_local_image_that_is_not_there_is_an_error(settings) -> None:
    base = inspect(settings)
    missing = '<img src="img/nowhere.png" alt="chart" width="552">'
    assert "image-missing" in codes(
        altered(base, html=base.sample.html.replace("</body>", missing + "</body>"))
    )


def test_half_width_marks_in_chinese_text_are_a_warning(settings, write_article) -> None:
    path = write_article("人工智能(AI)與區塊鏈,改變醫療。", lang="zh-Hant")
    found = [f for f in run_rules(inspect(settings, path)) if f.code == "mixed-punctuation"]
    assert len(found) == 1 and found[0].severity == "warning"
    assert "3 half-width marks" in found[0].message
