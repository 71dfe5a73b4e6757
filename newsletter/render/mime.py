"""Wire-format MIME messages, built around the issue's slots: headers once, bodies per recipient.

Python's EmailMessage re-folds and re-encodes everything for each message (~300 messages/s);
here everything that is the same for every recipient is encoded once per issue, and a message
costs two slot fills, two C-level encodings and a join.

Structure: multipart/alternative, text/plain before text/html, both UTF-8, each part in
quoted-printable or base64 (whichever is smaller for that part; never 8bit), CRLF line ends,
every line under 78 octets but the headers a subscriber's own data makes longer (under 998).
"""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.header import Header
from email.utils import format_datetime
from typing import NamedTuple
from urllib.parse import quote

from newsletter.config import ClickTracking, Settings
from newsletter.recipients import NAME_LIMIT
from newsletter.render.base64part import Base64Part, crlf
from newsletter.render.issue import Editions, RecipientFields, RenderedIssue
from newsletter.render.placeholders import SlotTemplate
from newsletter.render.tracking import track_links, tracked_links
from newsletter.tokens import ClickTokens, UnsubscribeTokens

__all__ = [
    "Composed",
    "EditionParts",
    "Envelope",
    "MessageBuilder",
    "Recipient",
    "UnsendableAddress",
    "message_id",
]

CRLF = "\r\n"


class UnsendableAddress(ValueError):
    """An address this builder cannot put in a header (a non-ASCII local part needs SMTPUTF8)."""


_ATOM_SAFE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ .-]*$")
_HEADER_BREAKING = re.compile(r"[\r\n<>]")


class Recipient(NamedTuple):
    """Who one message goes to; ``key`` identifies the subscriber in tokens and Message-IDs.

    A named tuple, not a frozen dataclass: a send makes one per reader, at a quarter the cost.
    """

    key: str
    email: str
    name: str | None = None
    first_name: str | None = None
    edition: str | None = None
    """The edition this reader gets (Editions.pick); None: the original."""


class Envelope(NamedTuple):
    """One recipient's identity and links, before any body is built (one per reader)."""

    recipient: Recipient
    campaign: str
    domain: str
    unsubscribe_url: str
    unsubscribe_mailto: str
    fields: RecipientFields
    edition: str

    @property
    def message_id(self) -> str:
        """Worked out when a message is built: SendGrid sets its own, so its sends skip it."""
        return message_id(self.campaign, self.recipient.key, self.domain)

    @property
    def list_unsubscribe(self) -> str:
        """The List-Unsubscribe value, unfolded (for APIs that fold it themselves)."""
        return f"<{self.unsubscribe_url}>, <{self.unsubscribe_mailto}>"


@dataclass(frozen=True)
class Composed:
    """One recipient's personalised parts and the message that carries them."""

    html: str
    text: str
    data: bytes
    html_part_bytes: int
    """Size of the encoded HTML part: what Gmail may count against its clip."""


def message_id(campaign: str, subscriber: str, domain: str) -> str:
    """Deterministic: a resend of the same campaign to the same subscriber has the same id."""
    digest = hashlib.sha256(f"{campaign}\0{subscriber}".encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


@dataclass(frozen=True)
class EditionParts:
    """What one edition's messages share: its issue (links tracked or not) and encoded headers."""

    issue: RenderedIssue
    authored: RenderedIssue
    """The issue before click tracking: the links as the author wrote them."""
    subject: str
    head: str
    boundary: str
    mime_head: str
    text_body: _Body
    html_body: _Body


class MessageBuilder:
    """Builds every recipient's message for one issue (each reader in their edition) and campaign."""

    def __init__(
        self,
        issue: RenderedIssue | Editions,
        settings: Settings,
        *,
        campaign: str,
        date: dt.datetime | None = None,
        subject_prefix: str = "",
        tracking: ClickTracking = ClickTracking.OFF,
    ):
        self.campaign = campaign
        self.editions = issue if isinstance(issue, Editions) else Editions.single(issue)
        self._clicks = ClickTokens(settings.secret_key.get_secret_value(), settings.list_label)
        self._per_reader = tracking == ClickTracking.PER_READER
        self._domain = settings.sending_domain
        self._base_url = settings.base_url
        self._mailto_prefix = (
            f"mailto:{quote(settings.unsubscribe_address, safe='@')}?subject=unsubscribe%20"
        )
        self._tokens = UnsubscribeTokens(
            settings.secret_key.get_secret_value(), settings.list_label
        )
        date = date or dt.datetime.now(dt.UTC)
        self._parts: dict[str, EditionParts] = {}
        first_link = 0  # tracked links are numbered across editions, the original's first
        for lang, authored in self.editions.renders.items():
            rendered = authored
            if tracking != ClickTracking.OFF:
                rendered = self._tracked(authored, settings.base_url, first_link)
                first_link += len(tracked_links(authored.html))
            self._parts[lang] = _edition_parts(rendered, authored, settings, date, subject_prefix)
        self.original = self.editions.langs[0]
        self.issue = self._parts[self.original].issue
        """The original edition as sent (its links tracked when tracking is on)."""

    def parts(self, edition: str) -> EditionParts:
        return self._parts[edition]

    def build(self, recipient: Recipient) -> bytes:
        """The complete message for one recipient, ready for SMTP DATA or an .eml file."""
        return self.compose(recipient).data

    def envelope(self, recipient: Recipient) -> Envelope:
        """What every provider needs per recipient: ids, unsubscribe links, field values."""
        _require_sendable(recipient.email)
        edition = recipient.edition if recipient.edition in self._parts else self.original
        token = self._tokens.issue(recipient.key, self.campaign)
        unsubscribe = f"{self._base_url}/u/{token}"
        reader = self._clicks.reader(self.campaign, recipient.key) if self._per_reader else ""
        mailto = f"{self._mailto_prefix}{token}"  # tokens are URL-safe: nothing to quote
        web_url = self._parts[edition].issue.web_url
        return Envelope(
            recipient=recipient,
            campaign=self.campaign,
            domain=self._domain,
            unsubscribe_url=unsubscribe,
            unsubscribe_mailto=mailto,
            fields=RecipientFields(recipient.first_name, unsubscribe, web_url, reader),
            edition=edition,
        )

    def compose(self, recipient: Recipient) -> Composed:
        """The message with the personalised parts it was built from."""
        return self.message(self.envelope(recipient))

    def message(self, envelope: Envelope) -> Composed:
        """The message for an envelope the caller already made, in the envelope's edition."""
        recipient = envelope.recipient
        parts = self._parts[envelope.edition]
        issue = parts.issue
        values = issue.values(envelope.fields)
        html, text = issue.html_template.fill(values), issue.text_template.fill(values)
        boundary = parts.boundary
        html_part = parts.html_body.encoded(html, values)
        data = b"".join(
            (
                (
                    parts.head
                    + f"To: {format_address(recipient.name, recipient.email, 'To')}{CRLF}"
                    + f"Message-ID: {envelope.message_id}{CRLF}"
                    + _list_unsubscribe(envelope.unsubscribe_url, envelope.unsubscribe_mailto)
                    + parts.mime_head
                    + f"{CRLF}--{boundary}{CRLF}"
                ).encode("ascii"),
                parts.text_body.encoded(text, values),
                f"{CRLF}--{boundary}{CRLF}".encode("ascii"),
                html_part,
                f"{CRLF}--{boundary}--{CRLF}".encode("ascii"),
            )
        )
        return Composed(html, text, data, len(html_part))

    def _tracked(self, issue: RenderedIssue, base_url: str, first: int) -> RenderedIssue:
        """Each tracked link through ``/l/``: signed once per link, plus the reader's slot."""
        reader = f"/{issue.slots.token('h', 'click_reader')}" if self._per_reader else ""
        return track_links(
            issue,
            lambda n: f"{base_url}/l/{self._clicks.link(self.campaign, first + n)}{reader}",
        )


def _edition_parts(
    issue: RenderedIssue,
    authored: RenderedIssue,
    settings: Settings,
    date: dt.datetime,
    subject_prefix: str,
) -> EditionParts:
    headers = [
        f"From: {format_address(settings.sender_name, settings.from_email, 'From')}",
        f"Subject: {encode_header(subject_prefix + issue.subject, 'Subject')}",
        f"Date: {format_datetime(date.astimezone(dt.UTC))}",
        _folded(
            "List-Id:",
            encode_header(settings.newsletter_name, "List-Id"),
            f"<{settings.list_label}>",
        ),
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
    ]
    if settings.reply_to:
        headers.insert(1, f"Reply-To: {format_address(None, settings.reply_to, 'Reply-To')}")
    boundary = f"=_nl_{issue.slots.salt}"
    return EditionParts(
        issue=issue,
        authored=authored,
        subject=subject_prefix + issue.subject,
        head=CRLF.join(headers) + CRLF,
        boundary=boundary,
        mime_head=(
            f"MIME-Version: 1.0{CRLF}"
            f'Content-Type: multipart/alternative; boundary="{boundary}"{CRLF}'
        ),
        text_body=_Body.of("text/plain", issue.text_template),
        html_body=_Body.of("text/html", issue.html_template),
    )


LINE = 78
"""RFC 5322's recommended limit for a header line, folded where whitespace allows."""


def _folded(*pieces: str) -> str:
    """Pieces joined by a space, or by a fold where the line would pass 78 octets."""
    out = pieces[0]
    for piece in pieces[1:]:
        last = out.rsplit(CRLF, 1)[-1]
        first = piece.split(CRLF, 1)[0]
        out += (" " if len(last) + 1 + len(first) <= LINE else CRLF + " ") + piece
    return out


def _list_unsubscribe(url: str, mailto: str) -> str:
    """Per recipient, so built by hand: each target on its own line when the line is long."""
    return _folded("List-Unsubscribe:", f"<{url}>,", f"<{mailto}>") + CRLF


def format_address(name: str | None, email: str, header: str) -> str:
    """``"Name" <addr>`` with RFC 2047 encoded-words for non-ASCII names; no header injection."""
    _require_sendable(email)
    name = " ".join((name or "").split())[:NAME_LIMIT]  # names stored before the limit, too
    if not name:
        return email
    if _ATOM_SAFE.match(name):
        return f'"{name}" <{email}>' if any(c in name for c in ".,") else f"{name} <{email}>"
    if name.isascii():
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{email}>'
    return f"{encode_header(name, header)} <{email}>"


def _require_sendable(email: str) -> None:
    """Refuse what no header can carry: a non-ASCII local part needs SMTPUTF8."""
    if not email.isascii():
        raise UnsendableAddress(f"{email!r} cannot be sent without SMTPUTF8 (non-ASCII local part)")
    if _HEADER_BREAKING.search(email):
        raise UnsendableAddress(f"{email!r} has a line break or angle bracket no header can carry")


def encode_header(value: str, header: str) -> str:
    """Fold a header value; RFC 2047 (UTF-8) when it is not ASCII or has a word too long to fold."""
    value = " ".join(value.split())
    plain = value.isascii() and all(len(word) <= 72 for word in value.split())
    charset = "us-ascii" if plain else "utf-8"
    return Header(value, charset, header_name=header).encode(linesep=CRLF)


@dataclass(frozen=True)
class _Body:
    """One part's headers and how its body is encoded for each recipient."""

    header: bytes
    base64: Base64Part | None
    """Pre-encoded pieces (base64 parts); None: quoted-printable of the whole filled part."""

    @classmethod
    def of(cls, content_type: str, template: SlotTemplate) -> _Body:
        cte = _pick_encoding(template)
        header = (
            f"Content-Type: {content_type}; charset=utf-8{CRLF}"
            f"Content-Transfer-Encoding: {cte}{CRLF}{CRLF}"
        ).encode("ascii")
        return cls(header, Base64Part(template) if cte == "base64" else None)

    def encoded(self, filled: str, values: Mapping[str, str]) -> bytes:
        """The part with its headers, for one recipient (``filled`` is its text, ``values``
        the slot values it was filled with)."""
        if self.base64 is not None:
            return self.header + self.base64.encode(values)
        data = crlf(filled).encode("utf-8")
        encoded = binascii.b2a_qp(data, istext=True)
        return self.header + (encoded if data.endswith(b"\r\n") else encoded + b"\r\n")


def _pick_encoding(template: SlotTemplate) -> str:
    """quoted-printable for mostly-ASCII parts (readable, and SpamAssassin's MIME_BASE64_TEXT
    stays quiet), base64 when non-ASCII bytes would make quoted-printable larger."""
    data = "".join(template.chunks).encode("utf-8")
    non_ascii = sum(1 for byte in data if byte > 127)
    qp_size = len(data) + 2 * non_ascii
    return "quoted-printable" if qp_size <= len(data) * 4 / 3 else "base64"
