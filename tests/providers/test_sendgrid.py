"""The SendGrid provider against a fake Mail Send API that checks every request."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from newsletter.compose.article import read_article
from newsletter.config import Settings
from newsletter.errors import ConfigError
from newsletter.providers.base import Failed, ProviderError, Sent, Uncertain
from newsletter.providers.sendgrid import SendGridProvider
from newsletter.render import render_issue
from newsletter.render.mime import MessageBuilder, Recipient
from tests.conftest import SAMPLE_ARTICLE
from tests.fakes.sendgrid import running

KEY = "SG.test-key-not-real"


@pytest.fixture
def issue(settings):
    return render_issue(read_article(SAMPLE_ARTICLE), settings)


@pytest.fixture
def provider_for(settings, issue) -> Iterator[Callable[..., SendGridProvider]]:
    """Makes providers for a server URL; closes their kept-alive connections afterwards."""
    made: list[SendGridProvider] = []

    def make(url: str, **options) -> SendGridProvider:
        configured = Settings(
            **{
                **settings.model_dump(),
                "sendgrid_api_key": KEY,
                "sendgrid_host": url,
                "sendgrid_timeout": 1.0,
            }
        )
        builder = MessageBuilder(issue, configured, campaign="c1")
        made.append(SendGridProvider(configured, builder, sleep=lambda _: None, **options))
        return made[-1]

    yield make
    for provider in made:
        provider.close()


def envelopes(provider: SendGridProvider, count: int, start: int = 0):
    return [
        provider._builder.envelope(
            Recipient(str(n), f"reader{n}@example.org", f"讀者 {n}", f"讀者{n}")
        )
        for n in range(start, start + count)
    ]


def test_a_batch_is_one_valid_request_with_a_personalization_each(provider_for) -> None:
    with running(KEY) as fake:
        provider = provider_for(fake.url)
        results = provider.send(envelopes(provider, 1000))
    assert all(isinstance(r, Sent) and r.provider_id for r in results)
    (body,) = fake.accepted
    assert len(body["personalizations"]) == 1000
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    first = body["personalizations"][0]
    assert first["to"] == [{"email": "reader0@example.org", "name": "讀者 0"}]
    assert first["custom_args"] == {"campaign": "c1", "subscriber": "0"}
    assert first["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first["headers"]["List-Unsubscribe"].startswith("<https://news.example.com/u/")
    assert [p["to"][0]["email"] for p in body["personalizations"]][:3] == [
        "reader0@example.org", "reader1@example.org", "reader2@example.org",
    ]  # fmt: skip


def test_substitutions_escape_html_but_not_text(provider_for, issue) -> None:
    with running(KEY) as fake:
        provider = provider_for(fake.url)
        envelope = provider._builder.envelope(
            Recipient("9", "tom@example.com", "Tom", 'Tom & "Jerry"')
        )
        provider.send([envelope])
    substitutions = fake.accepted[0]["personalizations"][0]["substitutions"]
    assert substitutions[issue.slots.token("h", "first_name")] == "Tom &amp; &quot;Jerry&quot;"
    assert substitutions[issue.slots.token("t", "first_name")] == 'Tom & "Jerry"'
    html = fake.accepted[0]["content"][1]["value"]
    assert html.count(issue.slots.token("h", "unsubscribe_url")) >= 1


def test_a_personalization_carries_any_text_as_json(provider_for, issue) -> None:
    """Personalizations are written as JSON text directly: quotes, backslashes, control
    characters and non-ASCII arrive as they were, and the request stays valid JSON."""
    name, first = 'Ann "Q" \\ Lee, Jr. 陳', 'A\\"\u2028\x01&<'
    with running(KEY) as fake:
        provider = provider_for(fake.url)
        envelope = provider._builder.envelope(Recipient("7", "ann@example.com", name, first))
        provider.send([envelope])
    (personalization,) = fake.accepted[0]["personalizations"]
    h, t = (issue.slots.token(part, "first_name") for part in ("h", "t"))
    hu, tu = (issue.slots.token(part, "unsubscribe_url") for part in ("h", "t"))
    assert personalization == {
        "to": [{"email": "ann@example.com", "name": "\"Ann 'Q' \\ Lee, Jr. 陳\""}],
        "substitutions": {
            h: "A\\&quot;\u2028\x01&amp;&lt;",
            t: first,
            hu: envelope.unsubscribe_url,
            tu: envelope.unsubscribe_url,
        },
        "headers": {
            "List-Unsubscribe": envelope.list_unsubscribe,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        "custom_args": {"campaign": "c1", "subscriber": "7"},
    }


def test_each_readers_copy_is_the_one_smtp_would_send(settings) -> None:
    """SendGrid fills the slots left in the body: what is the same for every reader of the
    edition (its web page, here with an & to escape in HTML) is filled once in the body, the
    rest per reader."""
    configured = Settings(
        **{
            **settings.model_dump(),
            "sendgrid_api_key": KEY,
            "base_url": "https://n.example.com/a&b",
        }
    )
    issue = render_issue(read_article(SAMPLE_ARTICLE), configured)
    builder = MessageBuilder(issue, configured, campaign="c1")
    with running(KEY) as fake:
        provider = SendGridProvider(
            configured.model_copy(update={"sendgrid_host": fake.url}), builder
        )
        batch = envelopes(provider, 3)
        provider.send(batch)
        provider.close()
    (body,) = fake.accepted
    for envelope, personalization in zip(batch, body["personalizations"], strict=True):
        text, html = (c["value"] for c in body["content"])
        for token, value in personalization["substitutions"].items():
            text, html = text.replace(token, value), html.replace(token, value)
        composed = builder.message(envelope)
        assert (html, text) == (composed.html, composed.text)
        assert "/a&b/archive/" in text and "/a&amp;b/archive/" in html


def test_429_and_5xx_are_retried_until_accepted(provider_for) -> None:
    with running(KEY, plan=["429", "503", "500", "ok"]) as fake:
        provider = provider_for(fake.url)
        results = provider.send(envelopes(provider, 3))
    assert all(isinstance(r, Sent) for r in results)
    assert fake.answers == [429, 503, 500, 202] and len(fake.accepted) == 1


@pytest.mark.parametrize(
    ("answer", "words"),
    [("400", "rejected the request"), ("401", "refused the API key"), ("413", "too large")],
)
def test_requests_sendgrid_refuses_stop_the_campaign_with_its_message(
    provider_for, answer: str, words: str
) -> None:
    with running(KEY, plan=[answer]) as fake:
        provider = provider_for(fake.url)
        with pytest.raises(ProviderError, match=words) as error:
            provider.send(envelopes(provider, 2))
    assert f"simulated {answer}" in str(error.value) and KEY not in str(error.value)


def test_a_wrong_key_is_refused_without_printing_it(provider_for) -> None:
    with running("SG.the-right-key") as fake:
        provider = provider_for(fake.url)
        with pytest.raises(ProviderError, match="refused the API key") as error:
            provider.send(envelopes(provider, 1))
    assert KEY not in str(error.value)


def test_endless_server_errors_give_up_without_claiming_success(provider_for) -> None:
    with running(KEY, decide=lambda n: "503") as fake:
        provider = provider_for(fake.url)
        with pytest.raises(ProviderError, match="still failing after 6 tries"):
            provider.send(envelopes(provider, 1))
    assert fake.accepted == []


def test_a_timeout_after_sending_is_uncertain_not_retried(provider_for) -> None:
    with running(KEY, plan=["slow"], slow_seconds=2.0) as fake:
        provider = provider_for(fake.url)
        results = provider.send(envelopes(provider, 2))
    assert all(isinstance(r, Uncertain) for r in results)
    assert len(fake.accepted) == 1  # it did arrive: resending would have doubled it


def test_a_recipient_sendgrid_refuses_fails_alone_and_the_rest_are_sent(provider_for) -> None:
    with running(KEY) as fake:
        provider = provider_for(fake.url)
        batch = envelopes(provider, 5)
        poison = provider._builder.envelope(
            Recipient("2", "reader2@example.org", "名" * 3000, "名" * 3000)
        )
        batch[2] = poison
        results = provider.send(batch)
    assert isinstance(results[2], Failed)
    assert "substitutions" in results[2].reason and "10,000 bytes" in results[2].reason
    assert [type(r) for i, r in enumerate(results) if i != 2] == [Sent] * 4
    assert fake.answers == [400, 202]
    (body,) = fake.accepted
    assert [p["to"][0]["email"] for p in body["personalizations"]] == [
        f"reader{n}@example.org" for n in (0, 1, 3, 4)
    ]


def test_a_400_naming_a_recipient_the_batch_lacks_stops_instead_of_looping(provider_for) -> None:
    with running(KEY, plan=["400:personalizations.9.to"] * 3) as fake:
        provider = provider_for(fake.url)
        with pytest.raises(ProviderError, match=r"personalizations\.9\.to"):
            provider.send(envelopes(provider, 2))
    assert fake.requests == 1


def test_no_request_schedules_with_sendgrid(provider_for) -> None:
    with running(KEY) as fake:
        provider = provider_for(fake.url)
        provider.send(envelopes(provider, 3))
    (body,) = fake.accepted
    assert "send_at" not in body and all("send_at" not in p for p in body["personalizations"])


def test_a_missing_api_key_is_named_before_anything_is_sent(settings, issue) -> None:
    builder = MessageBuilder(issue, settings, campaign="c1")
    with pytest.raises(ConfigError, match="NEWSLETTER_SENDGRID_API_KEY is not set"):
        SendGridProvider(settings, builder)


def test_the_fake_refuses_what_sendgrid_refuses(provider_for) -> None:
    with running(KEY) as fake:
        provider = provider_for(fake.url)
        twice = envelopes(provider, 1) * 2
        with pytest.raises(ProviderError, match="duplicate recipient addresses"):
            provider.send(twice)


def test_an_answer_lost_after_sending_is_uncertain_not_retried(provider_for) -> None:
    with running(KEY, plan=["accept-drop"]) as fake:
        provider = provider_for(fake.url)
        results = provider.send(envelopes(provider, 3))
    assert all(isinstance(r, Uncertain) for r in results)
    assert len(fake.accepted) == 1 and fake.requests == 1  # retrying would have sent it twice


def test_an_unreachable_server_is_retried_then_stops_the_campaign(provider_for) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once the probe closes
    provider = provider_for(f"http://127.0.0.1:{port}")
    with pytest.raises(ProviderError, match="could not reach SendGrid"):
        provider.send(envelopes(provider, 1))


def test_names_with_commas_or_semicolons_are_quoted(provider_for) -> None:
    with running(KEY) as fake:
        provider = provider_for(fake.url)
        provider.send(
            [
                provider._builder.envelope(
                    Recipient("1", "chan@example.org", "Chan, Tai Man; PhD", "Tai Man")
                )
            ]
        )
    assert fake.accepted[0]["personalizations"][0]["to"][0]["name"] == '"Chan, Tai Man; PhD"'
