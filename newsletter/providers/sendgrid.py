"""SendGrid v3 Mail Send through the official library: one HTML body per batch of up to 1000.

Each recipient is a personalization with its own ``to``, ``substitutions`` for the issue's
slots (HTML-escaped for the HTML tokens, plain for the text tokens), its List-Unsubscribe
headers, and ``custom_args`` naming only the campaign and subscriber ids (no personal data),
so events can be matched back to the journal.

Answers: 202 is sent. 429 waits until X-RateLimit-Reset; 5xx and connections that fail before
the request is out retry with exponential backoff and jitter, a bounded number of times. A
timeout or a dropped connection after the request went out is *uncertain*: SendGrid may have
accepted it, and a retry could mail the whole batch twice.
A 400 that names single personalizations (``personalizations.3.substitutions``: one
reader's name too long for the 10,000-byte limit) fails only those readers, with SendGrid's
words, and the rest of the batch is sent again without them. Any other 400, and 401/403/413,
stops the campaign with SendGrid's own error messages. The API key never appears in any output.
Scheduling is the campaign's (newsletter/delivery/schedule.py), never SendGrid's ``send_at``.
"""

from __future__ import annotations

import html
import http.client
import json
import re
import time
import urllib.error
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from newsletter.config import Settings
from newsletter.errors import ConfigError
from newsletter.providers.base import Failed, ProviderError, Result, Sent, Uncertain
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
JSON_UTF8 = "application/json; charset=utf-8"
PAUSED = (
    "the campaign is paused and nothing in this batch was sent; `campaigns resume` continues it"
)
"""Added to a whole-request refusal in a campaign; a one-off message has no campaign to pause."""

ATTEMPTS = 6
STOPPING = {
    400: "rejected the request",
    401: "refused the API key",
    403: "refused access",
    413: "found the request too large",
}


_NO_TRACKING = {
    "click_tracking": {"enable": False, "enable_text": False},
    "open_tracking": {"enable": False},
}
"""In every request: SendGrid's tracking rewrites links through its own domain and adds a pixel.
Clicks, when counted at all, are counted by `serve` (newsletter/render/tracking.py)."""


class _Transient(Exception):
    """An answer worth waiting for: 429, 5xx or a dropped connection."""

    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.wait = wait


class _AnswerLost(Exception):
    """The request went out but no answer came back (timeout, dropped connection)."""


class _RecipientsRefused(Exception):
    """A 400 whose every error names a personalization: those readers, not the batch, are at fault."""

    def __init__(self, reasons: dict[int, str], errors: str):
        super().__init__(errors)
        self.reasons = reasons


_PERSONALIZATION = re.compile(r"^personalizations\.(\d+)(?:\.(.+))?$")


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
        self._mail_send = _MailSend(settings, sleep)
        self._builder = builder
        self._editions = {
            lang: _Edition.of(settings, builder.parts(lang)) for lang in builder.editions.langs
        }

    def send(self, batch: Sequence[Envelope]) -> list[Result]:
        """One request for the batch (the runner hands over one edition at a time)."""
        if not batch:
            return []
        edition = self._editions[batch[0].edition]
        if any(e.edition != batch[0].edition for e in batch):
            raise ValueError("a SendGrid request carries one edition: split the batch first")
        personalizations = [self._personalization(edition, e) for e in batch]
        results: list[Result] = [Uncertain("not answered")] * len(batch)
        live = list(range(len(batch)))
        while live:
            payload = {**edition.base, "personalizations": [personalizations[i] for i in live]}
            try:
                message_id = self._mail_send.post_with_retries(payload)
            except _AnswerLost as exc:
                lost = Uncertain(f"SendGrid's answer was lost ({exc}); it may have the batch")
                for i in live:
                    results[i] = lost
                return results
            except ProviderError as exc:
                raise ProviderError(f"{exc}; {PAUSED}") from None
            except _RecipientsRefused as exc:  # fail those readers, send the rest again
                refused = {live[n]: reason for n, reason in exc.reasons.items() if n < len(live)}
                if not refused:  # it named nobody in this request: nothing to leave out
                    raise ProviderError(f"SendGrid rejected the request: {exc}; {PAUSED}") from None
                for i, reason in refused.items():
                    results[i] = Failed(f"SendGrid refused this recipient: {reason}")
                live = [i for i in live if i not in refused]
                continue
            for i in live:
                results[i] = Sent(message_id)
            live = []
        return results

    def close(self) -> None:
        """Nothing to close: each request is its own connection."""

    def _personalization(self, edition: _Edition, envelope: Envelope) -> dict[str, Any]:
        substitutions: dict[str, str] = {}
        values = edition.issue.values(envelope.fields)
        for field, (html_token, text_token) in edition.tokens.items():
            value = values[field]
            substitutions[html_token] = html.escape(value)
            substitutions[text_token] = value
        to = {"email": envelope.recipient.email}
        if envelope.recipient.name:
            to["name"] = _display_name(envelope.recipient.name)
        personalization: dict[str, Any] = {
            "to": [to],
            "substitutions": substitutions,
            "headers": {
                "List-Unsubscribe": envelope.list_unsubscribe,
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            "custom_args": {
                "campaign": self._builder.campaign,
                "subscriber": envelope.recipient.key,
            },
        }
        return personalization


@dataclass(frozen=True)
class _Edition:
    """One edition's request body without its recipients, and the slot tokens it uses."""

    issue: RenderedIssue
    base: dict[str, Any]
    tokens: dict[str, tuple[str, str]]

    @classmethod
    def of(cls, settings: Settings, parts: EditionParts) -> _Edition:
        issue = parts.issue
        used = set(issue.html_template.fields) | set(issue.text_template.fields)
        tokens = {
            field: (issue.slots.token("h", field), issue.slots.token("t", field))
            for field in SLOT_FIELDS
            if field in used
        }
        return cls(issue, _base_payload(settings, parts), tokens)


class _MailSend:
    """POST /v3/mail/send with bounded retries; shared by campaigns and transactional mail."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None]):
        if settings.sendgrid_api_key is None:
            raise ConfigError(
                "provider is sendgrid but NEWSLETTER_SENDGRID_API_KEY is not set; nothing was sent"
            )
        self._client = SendGridAPIClient(
            settings.sendgrid_api_key.get_secret_value(), host=settings.sendgrid_host
        )
        self._timeout = settings.sendgrid_timeout
        self._sleep = sleep

    def post_with_retries(self, payload: dict[str, Any]) -> str:
        retrying = Retrying(
            retry=retry_if_exception(lambda exc: isinstance(exc, _Transient)),
            wait=_wait,
            stop=stop_after_attempt(ATTEMPTS),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return str(retrying(self._post, payload))
        except _Transient as exc:
            raise ProviderError(f"SendGrid still failing after {ATTEMPTS} tries ({exc})") from None

    def _post(self, payload: dict[str, Any]) -> str:
        try:
            # Compact UTF-8 JSON: the library would escape every Chinese character to six bytes.
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
            response = self._client.client.mail.send.post(
                request_body=body,
                request_headers={"Content-Type": JSON_UTF8},
                timeout=self._timeout,
            )
        except HTTPError as exc:
            raise _classify(exc) from None
        except urllib.error.URLError as exc:  # urllib wraps what fails while connecting or sending
            raise _Transient(f"could not reach SendGrid: {exc.reason}") from None
        except (
            OSError,
            http.client.HTTPException,
        ) as exc:  # the answer was lost: it may have arrived
            raise _AnswerLost(f"{type(exc).__name__}: {exc}") from None
        headers = response.headers
        return str(headers.get("X-Message-Id", "") if headers else "")


def check_settings(settings: Settings) -> None:
    """Raise ConfigError now, not at the first message, when the API key is missing."""
    _MailSend(settings, time.sleep)


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
        return Sent(_MailSend(settings, sleep).post_with_retries(payload))
    except _AnswerLost as exc:
        return Uncertain(f"SendGrid's answer was lost ({exc})")
    except _RecipientsRefused as exc:
        return Failed(f"SendGrid refused the recipient: {'; '.join(exc.reasons.values())}")


def _classify(exc: HTTPError) -> Exception:
    status = exc.status_code
    if status == 429:
        reset = exc.headers.get("X-RateLimit-Reset") if exc.headers else None
        wait = (
            max(0.0, float(reset) - time.time())
            if reset and reset.replace(".", "").isdigit()
            else None
        )
        return _Transient("429 rate limited", wait)
    if status >= 500:
        return _Transient(f"{status} from SendGrid")
    if status == 400:
        refused = _refused_personalizations(exc.body)
        if refused:
            return _RecipientsRefused(refused, _errors(exc.body))
    verb = STOPPING.get(status, f"answered {status}")
    return ProviderError(f"SendGrid {verb}: {_errors(exc.body)}")


def _refused_personalizations(body: bytes | str | None) -> dict[int, str]:
    """{index: reason} when every error names one personalization; empty otherwise."""
    reasons: dict[int, str] = {}
    for error in _error_list(body):
        match = _PERSONALIZATION.match(str(error.get("field") or ""))
        if match is None:
            return {}
        what = match.group(2) or "personalization"
        reasons.setdefault(int(match.group(1)), f"{what}: {error.get('message', '')}".strip())
    return reasons


def _error_list(body: bytes | str | None) -> list[dict[str, Any]]:
    try:
        errors = json.loads(body or b"{}").get("errors", [])
    except (ValueError, AttributeError):
        return []
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _errors(body: bytes | str | None) -> str:
    """SendGrid's own messages (field and message), never the request."""
    parts = [
        f"{e.get('field') or 'request'}: {e.get('message', '')}".strip() for e in _error_list(body)
    ]
    return "; ".join(parts) or "no error details"


def _wait(state: RetryCallState) -> float:
    """Until X-RateLimit-Reset after a 429; otherwise exponential with jitter (at most 30 s)."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, _Transient) and exc.wait is not None:
        return min(exc.wait + 0.05, 60.0)
    return wait_random_exponential(multiplier=0.5, max=30)(state)


PROVIDER = SendGridProvider


def _display_name(name: str) -> str:
    """SendGrid drops mail whose name has an unquoted , or ; so such names are quoted."""
    name = " ".join(name.split())
    return '"' + name.replace('"', "'") + '"' if any(c in name for c in ",;") else name


def _unfolded(value: str) -> str:
    """RFC 2047 words on one line: SendGrid folds headers itself and refuses line breaks."""
    return encode_header(value, "List-Id").replace("\r\n", "")


def _base_payload(settings: Settings, parts: EditionParts) -> dict[str, Any]:
    """Everything that is the same for every recipient, built once per edition."""
    issue = parts.issue
    payload: dict[str, Any] = {
        "from": {"email": settings.from_email, "name": settings.sender_name},
        "subject": parts.subject,
        "content": [
            {"type": "text/plain", "value": issue.text},
            {"type": "text/html", "value": issue.html},
        ],
        "headers": {"List-Id": f"{_unfolded(settings.newsletter_name)} <{settings.list_label}>"},
        "categories": list(dict.fromkeys(settings.sendgrid_categories))[:10],
        "tracking_settings": _NO_TRACKING,
    }
    if settings.reply_to:
        payload["reply_to"] = {"email": settings.reply_to}
    return payload
