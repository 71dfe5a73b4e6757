"""POST /v3/mail/send: the timeouts, retries and reading of answers every SendGrid request shares.

A campaign's batches go over one kept-alive connection (httpx): each body is about 1 MB, and a
new connection per request plus the debug string python_http_client makes of every body cost
more than the request itself. One-off mail (a sign-up confirmation) goes through the official
library, one request each.

Whether a failed request may be sent again turns on one fact: did the whole request go out?
Until its last byte is written SendGrid cannot have accepted it, so it is retried (with backoff,
a bounded number of times). Once it is out, a lost answer (a timeout, a dropped connection) is
*uncertain*: SendGrid may have the batch, and a retry could mail every reader in it twice.
A kept connection the server closed while idle is never where a request goes: httpcore checks
it before reuse and opens a new one instead.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.error
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx
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
from newsletter.providers.base import ProviderError

__all__ = [
    "ATTEMPTS",
    "AnswerLost",
    "KeptAlive",
    "Library",
    "MailSend",
    "RecipientsRefused",
    "api_key",
]

ATTEMPTS = 6
PATH = "/v3/mail/send"
JSON_UTF8 = "application/json; charset=utf-8"
STOPPING = {
    400: "rejected the request",
    401: "refused the API key",
    403: "refused access",
    413: "found the request too large",
}


class Transient(Exception):
    """An answer worth waiting for: 429, 5xx, or a request that never got out whole."""

    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.wait = wait


class AnswerLost(Exception):
    """The request went out but no answer came back (timeout, dropped connection)."""


class RecipientsRefused(Exception):
    """A 400 whose every error names a personalization: those readers, not the batch, are at fault."""

    def __init__(self, reasons: dict[int, str], errors: str):
        super().__init__(errors)
        self.reasons = reasons


class Connection(Protocol):
    """Posts one JSON body; returns X-Message-Id or raises one of the exceptions above."""

    def post(self, body: bytes) -> str: ...

    def close(self) -> None: ...


def api_key(settings: Settings) -> str:
    """The key, or ConfigError now rather than at the first message (or inside an HTTP error
    that would quote the header holding it)."""
    if settings.sendgrid_api_key is None:
        raise ConfigError(
            "provider is sendgrid but NEWSLETTER_SENDGRID_API_KEY is not set; nothing was sent"
        )
    key = settings.sendgrid_api_key.get_secret_value().strip()  # a pasted line's break
    if not key or not all("!" <= c <= "~" for c in key):
        raise ConfigError(
            "NEWSLETTER_SENDGRID_API_KEY has spaces, line breaks or other characters no SendGrid "
            "key has; copy it again from SendGrid's API Keys page; nothing was sent"
        )
    return key


class KeptAlive:
    """One connection for a campaign's batches, with the official library's headers."""

    def __init__(self, settings: Settings):
        official = SendGridAPIClient(api_key(settings), host=settings.sendgrid_host).client
        self._client = httpx.Client(
            base_url=settings.sendgrid_host,
            headers={**official.request_headers, "Content-Type": JSON_UTF8},
            timeout=httpx.Timeout(settings.sendgrid_timeout),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        template = self._client.build_request("POST", PATH)
        del template.headers["Content-Length"]  # each body's own is set when its request is made
        self._template = template
        """Every post's URL, headers and timeout, merged from the client's once."""

    def post(self, body: bytes) -> str:
        methods: list[bytes] = []  # a proxy's CONNECT goes through this trace too
        written: list[str] = []

        def trace(event: str, info: Mapping[str, Any]) -> None:
            if event.endswith("send_request_headers.started"):
                methods.append(info["request"].method)
            elif event.endswith("send_request_body.complete") and methods[-1:] == [b"POST"]:
                written.append(event)

        template = self._template
        request = httpx.Request(
            "POST",
            template.url,
            headers=template.headers,
            content=body,
            extensions={**template.extensions, "trace": trace},
        )
        try:
            response = self._client.send(request)
        except httpx.RequestError as exc:
            if written:
                raise AnswerLost(_described(exc)) from None
            raise Transient(f"could not reach SendGrid: {_described(exc)}") from None
        return answered(response.status_code, response.headers, response.content)

    def close(self) -> None:
        self._client.close()


def _described(exc: httpx.RequestError) -> str:
    """What went wrong, without our own request's bytes: h11 quotes a header it refuses."""
    if isinstance(exc, httpx.LocalProtocolError):
        return type(exc).__name__
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


class Library:
    """The official client, a new connection per request: for one-off mail."""

    def __init__(self, settings: Settings):
        self._client = SendGridAPIClient(api_key(settings), host=settings.sendgrid_host)
        self._timeout = settings.sendgrid_timeout

    def post(self, body: bytes) -> str:
        try:
            response = self._client.client.mail.send.post(
                request_body=body.decode(),
                request_headers={"Content-Type": JSON_UTF8},
                timeout=self._timeout,
            )
        except HTTPError as exc:
            return answered(exc.status_code, exc.headers or {}, exc.body)
        except urllib.error.URLError as exc:  # urllib wraps what fails while connecting or sending
            raise Transient(f"could not reach SendGrid: {exc.reason}") from None
        except (OSError, http.client.HTTPException) as exc:  # after sending: it may have arrived
            raise AnswerLost(f"{type(exc).__name__}: {exc}") from None
        headers = response.headers
        return str(headers.get("X-Message-Id", "") if headers else "")

    def close(self) -> None:
        """Nothing kept open."""


class MailSend:
    """Posts a payload with bounded retries; raises ProviderError for what stops the campaign."""

    def __init__(self, connection: Connection, sleep: Callable[[float], None] = time.sleep):
        self._connection = connection
        self._sleep = sleep

    def post_with_retries(self, payload: dict[str, Any]) -> str:
        return self.post_body_with_retries(encoded(payload))

    def post_body_with_retries(self, body: bytes) -> str:
        """Post a body already encoded (a campaign batch prepared while the one before was in
        flight)."""
        retrying = Retrying(
            retry=retry_if_exception(lambda exc: isinstance(exc, Transient)),
            wait=_wait,
            stop=stop_after_attempt(ATTEMPTS),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return str(retrying(self._connection.post, body))
        except Transient as exc:
            raise ProviderError(f"SendGrid still failing after {ATTEMPTS} tries ({exc})") from None

    def close(self) -> None:
        self._connection.close()


def encoded(payload: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON: the library would escape every Chinese character to six bytes."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def answered(status: int, headers: Mapping[str, str], body: bytes | str | None) -> str:
    """The message id of an accepted request; otherwise the exception its answer calls for."""
    if 200 <= status < 300:
        return str(headers.get("X-Message-Id", ""))
    if status == 429:
        reset = headers.get("X-RateLimit-Reset")
        wait = (
            max(0.0, float(reset) - time.time())
            if reset and reset.replace(".", "").isdigit()
            else None
        )
        raise Transient("429 rate limited", wait)
    if status >= 500:
        raise Transient(f"{status} from SendGrid")
    if status == 400:
        refused = _refused_personalizations(body)
        if refused:
            raise RecipientsRefused(refused, _errors(body))
    verb = STOPPING.get(status, f"answered {status}")
    raise ProviderError(f"SendGrid {verb}: {_errors(body)}")


_PERSONALIZATION = re.compile(r"^personalizations\.(\d+)(?:\.(.+))?$")


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
    if isinstance(exc, Transient) and exc.wait is not None:
        return min(exc.wait + 0.05, 60.0)
    return wait_random_exponential(multiplier=0.5, max=30)(state)
