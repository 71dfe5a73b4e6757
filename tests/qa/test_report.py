"""The build report: what would go wrong in an inbox, measured on the sample reader's message."""

from __future__ import annotations

from newsletter.qa.build import build


def codes(report) -> list[str]:
    return [finding.code for finding in report.findings]


def test_a_clean_article_has_no_findings_but_the_shipped_examples(settings, write_article) -> None:
    body = "A paragraph pointing to [the programme](https://example.com)."
    report = build(write_article(body, preheader="What this week brings"), settings).report
    assert codes(report) == ["example-secret", "example-identity"]
    assert report.ok and report.non_https_links == [] and report.images_without_alt == []


def test_images_and_links_that_need_attention_are_listed(settings, write_article) -> None:
    body = (
        "![](https://example.com/decor.png)\n\n"
        '<img src="https://example.com/noalt.png">\n\n'
        "[old](http://example.com/insecure)"
    )
    report = build(write_article(body), settings).report
    assert report.images_without_alt == ["https://example.com/noalt.png"]
    assert report.non_https_links == ["http://example.com/insecure"]
    assert {"image-alt", "image-alt-empty", "link-https"} <= set(codes(report))
    assert report.ok  # warnings, not errors


def test_an_empty_body_and_a_preheader_equal_to_the_subject_are_flagged(
    settings, write_article
) -> None:
    report = build(write_article("", preheader="A test issue"), settings).report
    assert {"empty-body", "preheader-subject"} <= set(codes(report))


def test_the_encoded_html_part_size_is_what_the_message_carries(settings, write_article) -> None:
    result = build(write_article("Words " * 50), settings)
    message = (result.out_dir / "email.eml").read_bytes()
    report = result.report
    assert report.message_bytes == len(message)
    assert report.html_bytes < report.html_part_encoded_bytes < report.message_bytes
