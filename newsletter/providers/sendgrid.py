"""SendGrid v3 Mail Send: one HTML body per batch of up to 1000, over one kept-alive connection.

Each recipient is a personalization with its own ``to``, ``substitutions`` for the issue's
per-reader slots (HTML-escaped for the HTML tokens, plain for the text tokens; a slot with one
value for the whole edition, its web page, is filled in the body once), its List-Unsubscribe
headers, and ``custom_args`` naming only the campaign and subscriber ids (no personal data),
so events can be matched back to the journal.

Answers (newsletter/providers/sendgrid_transport.py): 202 is sent. 429 waits until
X-RateLimit-Reset; 5xx and requests that never got out whole retry with exponential backoff and
jitter, a bounded number of times. A timeout or a dropped connection after the whole request
went out is *uncertain*: SendGrid may have accepted it, and a retry could mail the batch twice.
A 400 that names single personalizations (``personalizations.3.substitutions``: one
reader's name too long for the 10,000-byte limit) fails only those readers, with SendGrid's
words, and the rest of the batch is sent again without them. Any other 400, and 401/403/413,
stops the campaign with SendGrid's own error messages. The API key never appears in any output.
Scheduling is the campaign's (newsletter/delivery/schedule.py), never SendGrid's ``send_at``.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring as _quoted  # see _Edition.personalization
from typing import Any, ClassVar

from newsletter.config import Settings
from newsletter.providers.base import Failed, ProviderError, Result, Sent, Uncertain
from newsletter.providers.sendgrid_transport import (
    AnswerLost,
    KeptAlive,
    Library,
    MailSend,
    RecipientsRefused,
    api_key,
    encoded,
)
from newsletter.render.issue import RenderedIssue
from newsletter.render.mime import EditionParts, Envelope, MessageBuilder, encode_header
from newsletter.render.placeholders import SLOT_FIELDS
from newsletter.render.transactional import Transactional

__all__ = [
    "MAX_PERSONALIZATIONS",
    "PROVIDER",
    "SendGridProvider",
    "check_settings",
    "send_transactional",
]

MAX_PERSONALIZATIONS = 1000
PAUSED = (
    "the campaign is paused and nothing in this batch was sent; `campaigns resume` continues it"
)
"""Added to a whole-request refusal in a campaign; a one-off message has no campaign to pause."""

_NO_TRACKING = {
    "click_tracking": {"enable": False, "enable_text": False},
    "open_tracking": {"enable": False},
}
"""In every request: SendGrid's tracking rewrites links through its own domain and adds a pixel.
Clicks, when counted at all, are counted by `serve` (newsletter/render/tracking.py)."""


class SendGridProvider:
    name: ClassVar[str] = "sendgrid"
    max_batch = MAX_PERSONALIZATIONS

    def __init__(
        self,
        settings: Settings,
        builder: MessageBuilder,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._builder = builder
        self._editions = {
            lang: _Edition.of(settings, builder.parts(lang), builder.campaign)
            for lang in builder.editions.langs
        }
        self._mail_send = MailSend(KeptAlive(settings), sleep)  # last: nothing left to fail

    def send(self, batch: Sequence[Envelope]) -> list[Result]:
        """One request for the batch (the runner hands over one edition at a time)."""
        return self.send_prepared(self.prepare(batch)) if batch else []

    def prepare(self, batch: Sequence[Envelope]) -> _Request:
        """The batch's request, built apart from sending it: the runner builds the next one
        while this one is in flight."""
        edition = self._editions[batch[0].edition]
        if any(e.edition != batch[0].edition for e in batch):
            raise ValueError("a SendGrid request carries one edition: split the batch first")
        personalizations = [edition.personalization(e) for e in batch]
        return _Request(edition, personalizations, _body(edition, personalizations))

    def send_prepared(self, request: _Request) -> list[Result]:
        """Post the request; readers SendGrid refuses by name fail, and the rest go again."""
        personalizations = request.personalizations
        results: list[Result] = [Uncertain("not answered")] * len(personalizations)
        live = list(range(len(personalizations)))
        body = request.body
        while live:
            try:
                message_id = self._mail_send.post_body_with_retries(body)
            except AnswerLost as exc:
                lost = Uncertain(f"SendGrid's answer was lost ({exc}); it may have the batch")
                for i in live:
                    results[i] = lost
                return results
            except ProviderError as exc:
                raise ProviderError(f"{exc}; {PAUSED}") from None
            except RecipientsRefused as exc:  # fail those readers, send the rest again
                refused = {live[n]: reason for n, reason in exc.reasons.items() if n < len(live)}
                if not refused:  # it named nobody in this request: nothing to leave out
                    raise ProviderError(f"SendGrid rejected the request: {exc}; {PAUSED}") from None
                for i, reason in refused.items():
                    results[i] = Failed(f"SendGrid refused this recipient: {reason}")
                live = [i for i in live if i not in refused]
                body = _body(request.edition, [personalizations[i] for i in live])
                continue
            sent = Sent(message_id)  # one answer for the batch: the journal records it once
            for i in live:
                results[i] = sent
            live = []
        return results

    def close(self) -> None:
        self._mail_send.close()


@dataclass(frozen=True)
class _Edition:
    """One edition's request body without its recipients, and the slot tokens each reader
    fills; a slot whose value is the same for every reader is filled in the body once."""

    issue: RenderedIssue
    head: bytes
    """The body up to its first personalization, encoded once."""
    keys: tuple[tuple[str, str, str], ...]
    """(field, its HTML token as a JSON key, its text token as one)."""
    campaign: str
    """The campaign id as JSON."""

    @classmethod
    def of(cls, settings: Settings, parts: EditionParts, campaign: str) -> _Edition:
        issue = parts.issue
        used = set(issue.html_template.fields) | set(issue.text_template.fields)
        tokens = {
            field: (issue.slots.token("h", field), issue.slots.token("t", field))
            for field in SLOT_FIELDS
            if field in used
        }
        shared = {"web_url": issue.web_url}  # the edition's own page: one for all its readers
        html_body, text_body = issue.html, issue.text
        for field, value in shared.items():
            if field in tokens:
                html_token, text_token = tokens.pop(field)
                html_body = html_body.replace(html_token, html.escape(value))
                text_body = text_body.replace(text_token, value)
        base = _base_payload(settings, parts, html_body, text_body)
        return cls(
            issue,
            head=encoded(base)[:-1] + b',"personalizations":[',
            keys=tuple((f, f"{_quoted(h)}:", f"{_quoted(t)}:") for f, (h, t) in tokens.items()),
            campaign=_quoted(campaign),
        )

    def personalization(self, envelope: Envelope) -> bytes:
        """One reader's personalization, written straight as JSON: their ``to``, the slots'
        ``substitutions``, List-Unsubscribe ``headers`` and the ids in ``custom_args``.

        This runs for every reader: building a dict for json.dumps cost twice as much, and one
        string of the whole body, mixing the article's CJK with ASCII, as much again to encode.
        Strings are quoted by json's own C encoder, the one json.dumps(ensure_ascii=False) uses:
        not documented, but typed by typeshed, and a change would fail every SendGrid test
        through the fake's JSON parser.
        """
        values = self.issue.values(envelope.fields)
        recipient = envelope.recipient
        substitutions = ",".join(
            f"{html_key}{_quoted(html.escape(values[field]))},{text_key}{_quoted(values[field])}"
            for field, html_key, text_key in self.keys
        )
        to = f'{{"email":{_quoted(recipient.email)}'
        if recipient.name:
            to += f',"name":{_quoted(_display_name(recipient.name))}'
        return (
            f'{{"to":[{to}}}],"substitutions":{{{substitutions}}},'
            f'"headers":{{"List-Unsubscribe":{_quoted(envelope.list_unsubscribe)},'
            '"List-Unsubscribe-Post":"List-Unsubscribe=One-Click"},'
            f'"custom_args":{{"campaign":{self.campaign},"subscriber":{_quoted(recipient.key)}}}}}'
        ).encode()


@dataclass(frozen=True)
class _Request:
    """One edition's batch ready to post: the readers' personalizations and the encoded body."""

    edition: _Edition
    personalizations: list[bytes]
    body: bytes


def _body(edition: _Edition, personalizations: list[bytes]) -> bytes:
    return edition.head + b",".join(personalizations) + b"]}"


def check_settings(settings: Settings) -> None:
    """Raise ConfigError now, not at the first message, when the API key is missing."""
    api_key(settings)


def send_transactional(
    settings: Settings, message: Transactional, *, sleep: Callable[[float], None] = time.sleep
) -> Result:
    """One message outside any campaign (a sign-up confirmation): no list headers."""
    to: dict[str, str] = {"email": message.to_email}
    if message.to_name:
        to["name"] = _display_name(message.to_name)
    payload: dict[str, Any] = {
        "personalizations": [{"to": [to]}],
        "from": {"email": settings.from_email, "name": settings.sender_name},
        "subject": message.subject,
        "content": [
            {"type": "text/plain", "value": message.text},
            {"type": "text/html", "value": message.html},
        ],
        "categories": [message.category],
        "tracking_settings": _NO_TRACKING,
    }
    if settings.reply_to:
        payload["reply_to"] = {"email": settings.reply_to}
    try:
        return Sent(MailSend(Library(settings), sleep).post_with_retries(payload))
    except AnswerLost as exc:
        return Uncertain(f"SendGrid's answer was lost ({exc})")
    except RecipientsRefused as exc:
        return Failed(f"SendGrid refused the recipient: {'; '.join(exc.reasons.values())}")


PROVIDER = SendGridProvider


def _display_name(name: str) -> str:
    """SendGrid drops mail whose name has an unquoted , or ; so such names are quoted."""
    name = " ".join(name.split())
    return '"' + name.replace('"', "'") + '"' if "," in name or ";" in name else name


def _unfolded(value: str) -> str:
    """RFC 2047 words on one line: SendGrid folds headers itself and refuses line breaks."""
    return encode_header(value, "List-Id").replace("\r\n", "")


def _base_payload(
    settings: Settings, parts: EditionParts, html_body: str, text_body: str
) -> dict[str, Any]:
    """Everything that is the same for every recipient, built once per edition."""
    payload: dict[str, Any] = {
        "from": {"email": settings.from_email, "name": settings.sender_name},
        "subject": parts.subject,
        "content": [
            {"type": "text/plain", "value": text_body},
            {"type": "text/html", "value": html_body},
        ],
        "headers": {"List-Id": f"{_unfolded(settings.newsletter_name)} <{settings.list_label}>"},
        "categories": list(dict.fromkeys(settings.sendgrid_categories))[:10],
        "tracking_settings": _NO_TRACKING,
    }
    if settings.reply_to:
        payload["reply_to"] = {"email": settings.reply_to}
    return payload
