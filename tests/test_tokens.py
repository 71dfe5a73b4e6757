"""Unsubscribe tokens: name a subscriber and a list, cannot be forged, carry no address."""

from __future__ import annotations

from itsdangerous import Signer, TimestampSigner

from newsletter.tokens import ClickTokens, UnsubscribeTokens

SECRET = "a-test-secret-that-is-long-enough"


def test_a_token_round_trips_to_its_subscriber_and_list() -> None:
    tokens = UnsubscribeTokens(SECRET, "weekly.example.com")
    claim = tokens.verify(tokens.issue("42"))
    assert claim is not None and (claim.subscriber, claim.list_id) == ("42", "weekly.example.com")


def test_a_tampered_token_or_another_secret_is_refused() -> None:
    tokens = UnsubscribeTokens(SECRET, "weekly.example.com")
    token = tokens.issue("42")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert tokens.verify(forged) is None
    assert (
        UnsubscribeTokens("another-secret-key-long-enough", "weekly.example.com").verify(token)
        is None
    )
    assert tokens.verify("not-a-token") is None


def test_a_token_for_another_list_is_refused() -> None:
    token = UnsubscribeTokens(SECRET, "other.example.com").issue("42")
    assert UnsubscribeTokens(SECRET, "weekly.example.com").verify(token) is None


def test_tokens_carry_no_address_and_differ_per_subscriber() -> None:
    tokens = UnsubscribeTokens(SECRET, "weekly.example.com")
    first, second = tokens.issue("1"), tokens.issue("2")
    assert first != second
    assert "@" not in first and "example" not in first
    assert all(c.isalnum() or c in "-_." for c in first)  # safe in a URL path as it is


def test_tokens_are_what_itsdangerous_itself_signs_so_links_already_sent_keep_working() -> None:
    tokens = UnsubscribeTokens(SECRET, "weekly.example.com")
    plain = TimestampSigner(SECRET, salt="newsletter.unsubscribe.v1:weekly.example.com")
    for moment in (1_700_000_000, 1_700_000_001, 1_800_000_000):
        tokens._signer.get_timestamp = lambda moment=moment: moment  # type: ignore[method-assign]
        plain.get_timestamp = lambda moment=moment: moment  # type: ignore[method-assign]
        for subscriber, campaign in (("42", "c1"), ("7", None), ("123456789", "2025-09-04")):
            value = subscriber if campaign is None else f"{subscriber}~{campaign}"
            assert tokens.issue(subscriber, campaign) == plain.sign(value).decode()
    clicks = ClickTokens(SECRET, "weekly.example.com")
    links = Signer(SECRET, salt="newsletter.click.v1:weekly.example.com")
    assert clicks.link("c1", 3) == links.sign("c1.3").decode()
