"""The SMTP provider against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy

import pytest

from newsletter.compose.article import read_article
from newsletter.config import Settings
from newsletter.errors import ConfigError
from newsletter.providers.base import Failed, ProviderError, RetryLater, Sent
from newsletter.providers.smtp import SmtpProvider
from newsletter.render import render_issue
from newsletter.render.mime import MessageBuilder, Recipient
from tests.conftest import SAMPLE_ARTICLE
from tests.fakes.smtp import running, running_tls, self_signed_certificate


def provider_for(settings: Settings, port: int, **changes) -> SmtpProvider:
    configured = Settings(
        **{
            **settings.model_dump(),
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_tls": "none",
            **changes,
        }
    )
    issue = render_issue(read_article(SAMPLE_ARTICLE), configured)
    return SmtpProvider(
        configured,
        MessageBuilder(issue, configured, campaign="c1"),
        retry_after=0.0,
        sleep=lambda _: None,
    )


def envelopes(provider: SmtpProvider, *addresses: str):
    return [
        provider._builder.envelope(Recipient(str(n), a, "陳大文", "大文"))
        for n, a in enumerate(addresses)
    ]


def test_messages_go_out_over_one_connection_and_parse_back(settings) -> None:
    with running() as server:
        provider = provider_for(settings, server.port)
        results = provider.send(
            envelopes(provider, "a@example.com", "b@example.org", "c@example.net")
        )
        provider.close()
    assert [type(r) for r in results] == [Sent, Sent, Sent]
    assert server.sessions == 1
    assert [rcpt for _, rcpt, _ in server.messages] == [
        ["a@example.com"],
        ["b@example.org"],
        ["c@example.net"],
    ]
    message = email.message_from_bytes(server.messages[0][2], policy=email.policy.default)
    assert message["To"] == "陳大文 <a@example.com>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "大文你好：" in message.get_body(("plain",)).get_content()
    assert results[0].provider_id == message["Message-ID"]


def test_a_5xx_fails_that_recipient_only_and_a_4xx_asks_to_retry(settings) -> None:
    with running() as server:
        server.refuse_rcpt = {
            "gone@example.com": "550 5.1.1 mailbox unavailable",
            "busy@example.com": "451 4.3.0 try later",
        }
        provider = provider_for(settings, server.port)
        results = provider.send(
            envelopes(provider, "gone@example.com", "busy@example.com", "fine@example.com")
        )
        provider.close()
    assert isinstance(results[0], Failed) and results[0].reason == "550 5.1.1 mailbox unavailable"
    assert isinstance(results[1], RetryLater) and "451" in results[1].reason
    assert isinstance(results[2], Sent)
    assert [rcpt for _, rcpt, _ in server.messages] == [["fine@example.com"]]


def test_a_refused_message_body_is_reported_with_the_servers_words(settings) -> None:
    with running() as server:
        server.refuse_data = ["554 5.7.1 message content rejected"]
        provider = provider_for(settings, server.port)
        results = provider.send(envelopes(provider, "a@example.com", "b@example.com"))
        provider.close()
    assert results[0] == Failed("554 5.7.1 message content rejected")
    assert isinstance(results[1], Sent)


def test_after_a_421_the_connection_is_reopened_and_the_message_retried_later(settings) -> None:
    with running() as server:
        server.refuse_data = ["421 4.3.2 service shutting down"]
        provider = provider_for(settings, server.port)
        results = provider.send(envelopes(provider, "a@example.com", "b@example.com"))
        provider.close()
    assert isinstance(results[0], RetryLater) and results[0].reason.startswith("421")
    assert isinstance(results[1], Sent)
    assert server.sessions == 2 and [rcpt for _, rcpt, _ in server.messages] == [["b@example.com"]]


def test_the_message_rate_is_kept(settings) -> None:
    waits: list[float] = []
    clock = iter(float(n) / 100 for n in range(1000))
    with running() as server:
        configured = Settings(
            **{
                **settings.model_dump(),
                "smtp_host": "127.0.0.1",
                "smtp_port": server.port,
                "smtp_tls": "none",
                "smtp_rate": 2.0,
            }
        )
        issue = render_issue(read_article(SAMPLE_ARTICLE), configured)
        provider = SmtpProvider(
            configured,
            MessageBuilder(issue, configured, campaign="c"),
            sleep=waits.append,
            clock=lambda: next(clock),
        )
        provider.send(envelopes(provider, "a@example.com", "b@example.com", "c@example.com"))
        provider.close()
    assert len(waits) == 2 and all(0.45 <= w <= 0.5 for w in waits)


def test_a_missing_host_is_named(settings) -> None:
    issue = render_issue(read_article(SAMPLE_ARTICLE), settings)
    with pytest.raises(ConfigError, match="NEWSLETTER_SMTP_HOST is not set"):
        SmtpProvider(settings, MessageBuilder(issue, settings, campaign="c"))


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "ssl"])
def test_tls_and_login(settings, tmp_path, implicit: bool) -> None:
    cert, key = self_signed_certificate(tmp_path)
    with running_tls(cert, key, implicit=implicit, login=("news", "s3cret-pass")) as server:
        provider = provider_for(
            settings,
            server.port,
            smtp_tls="ssl" if implicit else "starttls",
            smtp_ca_file=cert,
            smtp_username="news",
            smtp_password="s3cret-pass",
        )
        results = provider.send(envelopes(provider, "a@example.com"))
        provider.close()
    assert isinstance(results[0], Sent) and len(server.messages) == 1


def test_an_untrusted_certificate_stops_the_campaign(settings, tmp_path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    with running_tls(cert, key, implicit=False) as server:
        untrusted = provider_for(settings, server.port, smtp_tls="starttls")
        with pytest.raises(ProviderError, match="certificate is not trusted"):
            untrusted.send(envelopes(untrusted, "a@example.com"))
    assert server.messages == []


def test_lines_starting_with_a_dot_arrive_intact(settings, write_article) -> None:
    article = read_article(
        write_article(
            "First paragraph.\n\n.hidden looks like SMTP's end of data\n\n.\n\nAfter a lone dot."
        )
    )
    with running() as server:
        configured = Settings(
            **{
                **settings.model_dump(),
                "smtp_host": "127.0.0.1",
                "smtp_port": server.port,
                "smtp_tls": "none",
            }
        )
        builder = MessageBuilder(render_issue(article, configured), configured, campaign="c")
        provider = SmtpProvider(configured, builder)
        assert isinstance(
            provider.send([builder.envelope(Recipient("1", "a@example.com", None, None))])[0], Sent
        )
        provider.close()
    text = (
        email.message_from_bytes(server.messages[0][2], policy=email.policy.default)
        .get_body(("plain",))
        .get_content()
    )
    assert ".hidden looks like SMTP's end of data" in text and "After a lone dot." in text
