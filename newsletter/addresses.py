"""Email addresses as the list stores them: validated, normalised, compared without case.

The domain is lower-cased and IDNA-encoded; the local part is kept as given (some servers
distinguish case there), but two addresses that differ only in case are the same subscriber.
Plain ASCII addresses take a strict fast path whose every acceptance email-validator would
also accept identically (tests/test_addresses.py checks this with hypothesis); the
rest go through email-validator itself. No DNS lookups.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

__all__ = ["Address", "InvalidAddress", "normalize", "suppression_hash"]

_FAST = re.compile(
    r"(?P<local>[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
_SPECIAL = frozenset(SPECIAL_USE_DOMAIN_NAMES)  # all single labels: compared with the TLD


class InvalidAddress(ValueError):
    """Not an address we can mail; the message says why."""


@dataclass(frozen=True)
class Address:
    email: str
    """What goes in the To header: local part as given, domain lower-case ASCII (IDNA)."""
    key: str
    """Case-insensitive identity: what uniqueness and suppression compare."""


def normalize(raw: str, *, unicode_local: bool = False) -> Address:
    """Validate and normalise one address, or raise InvalidAddress.

    An address with non-ASCII before the @ (用户@example.com) needs SMTPUTF8 all the way to
    the reader's server, which newsletter does not send, so it is refused for anything new;
    ``unicode_local`` accepts it only to find a row stored before (to unsubscribe or erase it).
    """
    text = raw.strip()
    match = _FAST.fullmatch(text)
    if match and _fast_path_ok(match["local"], match["domain"]):
        email = f"{match['local']}@{match['domain'].lower()}"
        return Address(email, email.lower())
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from None
    if not unicode_local and not result.local_part.isascii():
        raise InvalidAddress(
            "it has non-ASCII characters before the @; mail to it needs SMTPUTF8, which "
            "newsletter does not send, so use another address"
        )
    email = f"{result.local_part}@{result.ascii_domain}"
    return Address(email, email.lower())


def suppression_hash(key: str) -> str:
    """What an erased subscriber leaves behind: enough to refuse the address, not to read it."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _fast_path_ok(local: str, domain: str) -> bool:
    if len(local) > 64 or len(local) + 1 + len(domain) > 254:
        return False
    if "--" in domain:  # "ab--cd" labels are reserved (IDNA); email-validator decides those
        return False
    return domain.rsplit(".", 1)[-1].lower() not in _SPECIAL
