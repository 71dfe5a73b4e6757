"""One kept-alive connection to SendGrid, and when a failed request may be sent again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from newsletter.compose.article import read_article
from newsletter.config import Settings
from newsletter.errors import ConfigError
from newsletter.providers.base import ProviderError, Sent
from newsletter.providers.sendgrid import SendGridProvider
from newsletter.providers.sendgrid_transport import AnswerLost, KeptAlive, MailSend
from newsletter.render import render_issue
from newsletter.render.mime import MessageBuilder, Recipient
from tests.conftest import SAMPLE_ARTICLE
from tests.fakes.sendgrid import running

KEY = "SG.test-key-not-real"


def configured(settings: Settings, url: str) -> Settings:
    return Settings(
        **{
            **settings.model_dump(),
            "sendgrid_api_key": KEY,
            "sendgrid_host": url,
            "sendgrid_timeout": 2.0,
        }
    )


@pytest.fixture
def issue(settings):
    return render_issue(read_article(SAMPLE_ARTICLE), settings)


@pytest.fixture
def provider(settings, issue) -> Iterator[Callable[[str], SendGridProvider]]:
    """Makes providers for a server's URL; closes their connections afterwards."""
    made: list[SendGridProvider] = []

    def make(url: str) -> SendGridProvider:
        own = configured(settings, url)
        made.append(
            SendGridProvider(own, MessageBuilder(issue, own, campaign="c1"), sleep=lambda _: None)
        )
        return made[-1]

    yield make
    for each in made:
        each.close()


@contextmanager
def posting(settings: Settings) -> Iterator[MailSend]:
    """A kept-alive MailSend for these settings, closed afterwards."""
    mail_send = MailSend(KeptAlive(settings), sleep=lambda _: None)
    try:
        yield mail_send
    finally:
        mail_send.close()


def batch(provider: SendGridProvider, start: int, count: int = 3):
    return [
        provider._builder.envelope(Recipient(str(n), f"reader{n}@example.org", f"讀者 {n}", "讀者"))
        for n in range(start, start + count)
    ]


def test_a_campaigns_batches_share_one_connection(provider) -> None:
    with running(KEY) as fake:
        sender = provider(fake.url)
        results = [r for n in range(4) for r in sender.send(batch(sender, n * 3))]
    assert all(isinstance(r, Sent) for r in results) and len(fake.accepted) == 4
    assert fake.connections == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_not_left_uncertain(
    provider,
) -> None:
    with running(KEY, idle_close=0.2) as fake:
        sender = provider(fake.url)
        first = sender.send(batch(sender, 0))
        time.sleep(0.6)  # the server has closed the kept connection by now
        second = sender.send(batch(sender, 3))
    assert all(isinstance(r, Sent) for r in first + second)
    assert fake.requests == 2 and len(fake.accepted) == 2 and fake.connections == 2


def test_a_request_cut_off_before_its_last_byte_is_sent_again(settings) -> None:
    # 20 MB: more than the loopback buffers hold, so the reset lands while it is being written.
    payload = {
        "personalizations": [{"to": [{"email": "reader@example.org"}]}],
        "from": {"email": "weekly@example.com"},
        "subject": "big",
        "content": [{"type": "text/plain", "value": "x" * 20_000_000}],
        "tracking_settings": {
            "click_tracking": {"enable": False},
            "open_tracking": {"enable": False},
        },
    }
    with (
        running(KEY, plan=["reset", "ok"]) as fake,
        posting(configured(settings, fake.url)) as mail_send,
    ):
        message_id = mail_send.post_with_retries(payload)
    assert message_id and fake.requests == 2 and len(fake.accepted) == 1


def test_an_answer_lost_after_the_whole_request_went_out_is_not_sent_again(settings) -> None:
    payload = {"personalizations": [{"to": [{"email": "reader@example.org"}]}]}
    with (
        running(KEY, plan=["drop"], validate=False) as fake,
        posting(configured(settings, fake.url)) as mail_send,
        pytest.raises(AnswerLost),
    ):
        mail_send.post_with_retries(payload)
    assert fake.requests == 1


def test_the_key_goes_in_the_header_the_official_library_uses_and_nowhere_else(settings) -> None:
    with (
        running("SG.another-key") as fake,
        posting(configured(settings, fake.url)) as mail_send,
        pytest.raises(ProviderError, match="refused the API key") as error,
    ):
        mail_send.post_with_retries({"personalizations": []})
    assert KEY not in str(error.value) and fake.answers == [401]


def test_a_key_pasted_with_a_line_break_at_its_end_still_works(settings) -> None:
    with running(KEY) as fake:
        own = Settings(
            **{**configured(settings, fake.url).model_dump(), "sendgrid_api_key": KEY + "\n"}
        )
        with posting(own) as mail_send:
            assert mail_send.post_with_retries(PAYLOAD)


def test_a_key_with_a_space_inside_is_refused_without_printing_it(settings) -> None:
    own = Settings(**{**settings.model_dump(), "sendgrid_api_key": "SG.secret part two"})
    with pytest.raises(ConfigError, match="NEWSLETTER_SENDGRID_API_KEY") as error:
        KeptAlive(own)
    assert "secret" not in str(error.value)


def test_a_proxy_that_refuses_the_tunnel_is_retried_not_left_uncertain(
    settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with refusing_proxy() as (proxy_url, tunnels):
        monkeypatch.setenv("HTTPS_PROXY", proxy_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        own = configured(settings, "https://api.sendgrid.example.com")
        with (
            posting(own) as mail_send,
            pytest.raises(ProviderError, match="still failing after 6 tries"),
        ):
            mail_send.post_with_retries(PAYLOAD)
    assert len(tunnels) == 6  # nothing reached SendGrid, so each try was safe


def test_an_answer_that_cannot_be_decoded_is_uncertain(settings) -> None:
    with (
        running(KEY, plan=["bad-gzip"], validate=False) as fake,
        posting(configured(settings, fake.url)) as mail_send,
        pytest.raises(AnswerLost),
    ):
        mail_send.post_with_retries(PAYLOAD)
    assert fake.requests == 1 and len(fake.accepted) == 1


PAYLOAD = {
    "personalizations": [{"to": [{"email": "reader@example.org"}]}],
    "from": {"email": "weekly@example.com"},
    "subject": "s",
    "content": [{"type": "text/plain", "value": "x"}],
    "tracking_settings": {"click_tracking": {"enable": False}, "open_tracking": {"enable": False}},
}


@contextmanager
def refusing_proxy() -> Iterator[tuple[str, list[str]]]:
    """An HTTP proxy on 127.0.0.1 that answers every CONNECT with 407."""
    tunnels: list[str] = []

    class Proxy(BaseHTTPRequestHandler):
        def do_CONNECT(self) -> None:
            tunnels.append(self.path)
            self.send_response(407)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tunnels
    finally:
        server.shutdown()
        server.server_close()
