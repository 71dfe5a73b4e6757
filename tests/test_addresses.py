"""Addresses: validated without DNS, the domain normalised, compared without case."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.addresses import InvalidAddress, normalize, suppression_hash


def test_the_domain_is_lowercased_and_the_local_part_kept() -> None:
    address = normalize("  Mei.Chan@Example.ORG ")
    assert address.email == "Mei.Chan@example.org"
    assert address.key == "mei.chan@example.org"


def test_international_domains_are_idna_encoded() -> None:
    assert normalize("user@Bücher.example").email == "user@xn--bcher-kva.example"


@pytest.mark.parametrize(
    "bad",
    ["", "plain", "a@b", "two@@example.com", "x@localhost", "x@example.test", "a b@example.com"],
)
def test_invalid_addresses_are_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(InvalidAddress):
        normalize(bad)


def test_suppression_hash_is_stable_and_hides_the_address() -> None:
    digest = suppression_hash("ada@example.com")
    assert digest == suppression_hash(normalize("ADA@example.com").key)
    assert "ada" not in digest and len(digest) == 64


_local = st.text(alphabet="abcXYZ019._+-!#$%&'*/=?^`{|}~\"", min_size=1, max_size=70)
_label = st.text(alphabet="abcXYZ019-_", min_size=1, max_size=66)
_domain = st.lists(_label, min_size=1, max_size=4).map(".".join) | st.sampled_from(
    ["example.com", "EXAMPLE.org", "mail.example.net", "x.test", "y.localhost", "z.onion", "e.com"]
)


@settings(max_examples=600, deadline=None)
@given(local=_local, domain=_domain)
def test_normalize_agrees_with_email_validator(local: str, domain: str) -> None:
    """The fast path never accepts what email-validator refuses, and normalises identically."""
    raw = f"{local}@{domain}"
    try:
        expected = validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        with pytest.raises(InvalidAddress):
            normalize(raw)
        return
    address = normalize(raw)
    assert address.email == f"{expected.local_part}@{expected.ascii_domain}"
    assert address.key == address.email.lower()


@settings(max_examples=300, deadline=None)
@given(local=_local, domain=_domain)
def test_normalizing_twice_changes_nothing_and_case_never_matters(local: str, domain: str) -> None:
    try:
        once = normalize(f"{local}@{domain}")
    except InvalidAddress:
        return
    assert normalize(once.email) == once
    assert normalize(once.email.upper()).key == once.key or not once.email.isascii()


def test_a_non_ascii_local_part_is_refused_for_new_rows_and_found_for_old_ones() -> None:
    with pytest.raises(InvalidAddress, match="SMTPUTF8"):
        normalize("用户@example.com")
    assert normalize("用户@Example.com", unicode_local=True).email == "用户@example.com"
