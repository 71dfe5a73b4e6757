"""Compliance rules: what the law and the big mailbox providers require of every bulk message."""

from __future__ import annotations

from collections.abc import Iterator

from newsletter.qa.findings import Finding, Inspection
from newsletter.qa.size import CLIP_LIMIT

__all__ = ["compliance", "sending_identity"]


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
    # The footer prints the address in unbreakable parts: find where its first part starts.
    starts = i.sample.html.find(address.split(", ")[0])
    if address not in i.tree.text_content() or starts > CLIP_LIMIT:
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


def sending_identity(i: Inspection) -> Iterator[Finding]:
    """The shipped example secret and identity: fine for trying it out, refused by a real send."""
    if i.settings.uses_example_secret:
        yield Finding(
            "warning",
            "example-secret",
            "secret_key is the public example value: set NEWSLETTER_SECRET_KEY before sending to anyone",
            "newsletter.toml",
            "put a long random secret in .env as NEWSLETTER_SECRET_KEY",
        )
    shipped = [name for name in i.settings.example_identity if name != "secret_key"]
    if shipped:
        yield Finding(
            "warning",
            "example-identity",
            f"{', '.join(shipped)} still hold the shipped examples: its links and sender reach "
            "nobody, and a real send refuses them",
            "newsletter.toml",
            "set your own base_url, from_email, reply_to and postal_address",
        )
