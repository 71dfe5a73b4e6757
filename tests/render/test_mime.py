"""Every message parses back with Python's email package and carries what inboxes require."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from email.header import decode_header, make_header

import pytest

from newsletter.compose.article import read_article
from newsletter.render import render_issue
from newsletter.render.mime import MessageBuilder, Recipient, UnsendableAddress, message_id
from newsletter.tokens import UnsubscribeTokens
from tests.conftest import FIXTURES, SAMPLE_ARTICLE

ADA = Recipient(key="17", email="ada@example.org", name="Ada Lovelace", first_name="Ada")
CHAN = Recipient(key="18", email="chan@example.net", name="陳大文", first_name="大文")


@pytest.fixture
def builder(settings) -> MessageBuilder:
    issue = render_issue(read_article(SAMPLE_ARTICLE), settings)
    return MessageBuilder(
        issue, settings, campaign="c1", date=dt.datetime(2025, 9, 4, 8, 0, tzinfo=dt.UTC)
    )


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def test_structure_is_alternative_with_text_before_html_in_utf8(builder: MessageBuilder) -> None:
    message = parse(builder.build(ADA))
    assert message.get_content_type() == "multipart/alternative"
    assert message["MIME-Version"] == "1.0"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    for part in parts:
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] in ("base64", "quoted-printable")
    assert "Ada你好：" in parts[0].get_content() and "Ada你好：" in parts[1].get_content()


def test_wire_form_uses_crlf_and_short_lines(builder: MessageBuilder) -> None:
    data = builder.build(CHAN)
    assert b"\n" not in data.replace(b"\r\n", b"")
    lines = data.split(b"\r\n")
    assert max(len(line) for line in lines) < 998
    body = data.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert data.isascii()


def test_headers_from_reply_to_subject_date_and_to(builder: MessageBuilder, settings) -> None:
    message = parse(builder.build(CHAN))
    assert message["From"] == f"{settings.from_name} <{settings.from_email}>"
    assert message["Reply-To"] == settings.reply_to
    assert message["Subject"] == builder.issue.subject
    assert message["Date"] == "Thu, 04 Sep 2025 08:00:00 +0000"
    assert message["To"] == "陳大文 <chan@example.net>"
    raw_subject = parse(builder.build(CHAN)).get("Subject")
    assert str(make_header(decode_header(raw_subject))) == builder.issue.subject


def test_non_ascii_headers_are_encoded_words_of_at_most_75_characters(
    builder: MessageBuilder,
) -> None:
    head = builder.build(CHAN).split(b"\r\n\r\n", 1)[0].decode("ascii")
    words = re.findall(r"=\?utf-8\?[bq]\?[^?]*\?=", head)
    assert words and all(len(word) <= 75 for word in words)
    assert "Subject: =?utf-8?b?" in head and "To: =?utf-8?b?" in head


def test_list_headers_for_one_click_unsubscribe(builder: MessageBuilder, settings) -> None:
    message = parse(builder.build(ADA))
    unsubscribe = message["List-Unsubscribe"]
    https, mailto = re.findall(r"<([^>]+)>", unsubscribe)
    assert https.startswith(f"{settings.base_url}/u/") and mailto.startswith(
        "mailto:unsubscribe@example.com?"
    )
    token = https.rsplit("/", 1)[1]
    claim = UnsubscribeTokens(settings.secret_key.get_secret_value(), settings.list_label).verify(
        token
    )
    assert claim is not None and claim.subscriber == "17"
    assert "ada@example.org" not in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"].endswith(f"<{settings.list_label}>")
    html = message.get_body(("html",)).get_content()
    assert f'href="{https}"' in html


def test_each_header_appears_once(builder: MessageBuilder) -> None:
    message = parse(builder.build(ADA))
    for name in (
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "List-Unsubscribe",
        "List-Id",
        "MIME-Version",
    ):
        assert len(message.get_all(name)) == 1, name


def test_message_ids_are_deterministic_per_campaign_and_subscriber(builder: MessageBuilder) -> None:
    first, again, other = (parse(builder.build(r))["Message-ID"] for r in (ADA, ADA, CHAN))
    assert first == again != other
    assert first == message_id("c1", "17", "example.com")
    assert re.fullmatch(r"<[0-9a-f]{32}@example\.com>", first)


def test_names_cannot_inject_headers(builder: MessageBuilder) -> None:
    sneaky = Recipient(
        key="9", email="eve@example.com", name="Eve\r\nBcc: all@example.com", first_name="Eve"
    )
    data = builder.build(sneaky)
    assert b"\r\nBcc:" not in data
    (address,) = parse(data)["To"].addresses
    assert (address.display_name, address.addr_spec) == (
        "Eve Bcc: all@example.com",
        "eve@example.com",
    )


def test_an_english_issue_uses_readable_quoted_printable(settings) -> None:
    issue = render_issue(read_article(FIXTURES / "articles" / "english.md"), settings)
    data = MessageBuilder(issue, settings, campaign="c2").build(ADA)
    message = parse(data)
    assert [p["Content-Transfer-Encoding"] for p in message.iter_parts()] == [
        "quoted-printable"
    ] * 2
    assert b"Content-Transfer-Encoding: 8bit" not in data
    assert "Hi Ada," in message.get_body(("plain",)).get_content()


def test_a_test_subject_prefix(settings) -> None:
    issue = render_issue(read_article(FIXTURES / "articles" / "english.md"), settings)
    message = parse(
        MessageBuilder(issue, settings, campaign="t", subject_prefix="[TEST] ").build(ADA)
    )
    assert message["Subject"] == "[TEST] Why one-click unsubscribe matters"


def test_an_address_that_needs_smtputf8_is_refused_clearly(builder: MessageBuilder) -> None:
    with pytest.raises(UnsendableAddress, match="SMTPUTF8"):
        builder.build(Recipient(key="5", email="josé@example.com", name="José"))


def test_an_address_that_would_break_a_header_is_refused_as_such(builder: MessageBuilder) -> None:
    with pytest.raises(UnsendableAddress, match="line break or angle bracket"):
        builder.build(Recipient(key="5", email="a@example.com>\r\nBcc: b@example.org"))


def test_absurd_names_and_subject_words_still_fit_998_octet_lines(settings) -> None:
    issue = render_issue(read_article(FIXTURES / "articles" / "english.md"), settings)
    builder = MessageBuilder(issue, settings, campaign="c", subject_prefix="x" * 1100 + " ")
    data = builder.build(Recipient(key="6", email="long@example.com", name="N" * 1200))
    assert max(len(line) for line in data.split(b"\r\n")) < 998
    assert parse(data)["To"].addresses[0].display_name == "N" * 200


def test_header_lines_stay_under_78_octets_wherever_folding_allows(builder: MessageBuilder) -> None:
    data = builder.message(builder.envelope(CHAN)).data
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    too_long = [
        line for line in head.split("\r\n")
        if len(line) > 78 and " " in line.strip()  # a single token cannot be folded
    ]  # fmt: skip
    assert too_long == []
    message = parse(data)
    assert message["List-Id"].endswith("<newsletter.example.com>")
    unfolded = " ".join(str(message["List-Unsubscribe"]).split())
    assert re.fullmatch(r"<https://[^>]+>, <mailto:[^>]+>", unfolded)
