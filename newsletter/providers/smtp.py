"""SMTP through smtplib: one reused connection, one transaction per recipient, at a set pace.

STARTTLS, implicit TLS (smtps) or plain (only sensible for a local relay), with AUTH when a
username is set. The connection is reopened when the server drops it. Per recipient: a 4xx
reply is "try again later", a 5xx reply fails that recipient with the server's own words,
and a connection lost while the message body was being sent is *uncertain* (the server may
have queued it). Works against Postfix, Amazon SES SMTP, Mailpit and aiosmtpd.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from typing import ClassVar

from newsletter.config import Settings
from newsletter.errors import ConfigError
from newsletter.providers.base import Failed, ProviderError, Result, RetryLater, Sent, Uncertain
from newsletter.render.mime import Envelope, MessageBuilder
from newsletter.render.transactional import Transactional

__all__ = ["PROVIDER", "SmtpConnection", "SmtpProvider", "check_settings", "send_transactional"]

_LEADING_DOT = re.compile(rb"(?m)^\.")
_NO_SUCH_ADDRESS = re.compile(r"5\.1\.\d+\b")
"""RFC 3463 5.1.x: the address is wrong for good (no such mailbox, domain or system)."""


class SmtpConnection:
    """Finished messages to an SMTP server: one reused connection, paced, its answers classified.

    Campaigns send through ``SmtpProvider``; one-off mail (a sign-up confirmation) uses this
    directly, since it brings its own bytes.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        retry_after: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not settings.smtp_host:
            raise ConfigError(
                "provider is smtp but NEWSLETTER_SMTP_HOST is not set; nothing was sent"
            )
        if settings.smtp_username and settings.smtp_password is None:
            raise ConfigError("NEWSLETTER_SMTP_USERNAME is set but NEWSLETTER_SMTP_PASSWORD is not")
        self._settings = settings
        self._interval = 1.0 / settings.smtp_rate if settings.smtp_rate else 0.0
        self._retry_after = settings.smtp_retry_after if retry_after is None else retry_after
        self._sleep, self._clock = sleep, clock
        self._last = float("-inf")
        self._connection: smtplib.SMTP | None = None

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.quit()
            except (smtplib.SMTPException, OSError):
                self._connection.close()
            self._connection = None

    def deliver(self, recipient: str, message: bytes, message_id: str) -> Result:
        """One SMTP transaction for a finished message."""
        self._pace()
        try:
            connection = self._connect()
            _expect(connection.mail(self._settings.from_email))
            _expect(connection.rcpt(recipient))
            connection.putcmd("data")
            _expect(connection.getreply(), ok=(354,))
        except smtplib.SMTPResponseException as exc:
            return self._refused(exc)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()  # nothing of the message has been sent yet: safe to try again
            return RetryLater(f"SMTP connection problem before sending: {exc}", self._retry_after)
        try:  # from here the server may queue the message even if its answer never arrives
            connection.send(_dot_stuffed(message))
            code, reply = connection.getreply()
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return Uncertain(f"connection lost while sending the message: {exc}")
        if 200 <= code < 300:
            return Sent(message_id)
        return self._refused(smtplib.SMTPResponseException(code, reply))

    def _refused(self, exc: smtplib.SMTPResponseException) -> Result:
        reply = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        words = f"{exc.smtp_code} {reply}".strip()
        self._reset()
        if exc.smtp_code in (530, 534, 535):
            raise ProviderError(
                f"the SMTP server refused the login: {words}; check NEWSLETTER_SMTP_USERNAME/PASSWORD"
            )
        if 400 <= exc.smtp_code < 500:
            if exc.smtp_code == 421:
                self._drop()
            return RetryLater(words, self._retry_after)
        return Failed(words, bounced=bool(_NO_SUCH_ADDRESS.match(reply)))

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        s = self._settings
        timeout = s.smtp_timeout
        context = ssl.create_default_context(cafile=str(s.smtp_ca_file) if s.smtp_ca_file else None)
        if s.smtp_tls == "ssl":
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host or "", s.smtp_port, timeout=timeout, context=context
            )
        else:
            connection = smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=timeout)
        try:
            if s.smtp_tls == "starttls":
                connection.starttls(context=context)
            connection.ehlo_or_helo_if_needed()
            if s.smtp_username and s.smtp_password is not None:
                connection.login(s.smtp_username, s.smtp_password.get_secret_value())
        except BaseException as exc:
            connection.close()
            raise _setup_error(exc) from None
        self._connection = connection
        return connection

    def _reset(self) -> None:
        if self._connection is not None:
            try:
                self._connection.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _pace(self) -> None:
        if self._interval:
            wait = self._last + self._interval - self._clock()
            if wait > 0:
                self._sleep(wait)
            self._last = self._clock()


class SmtpProvider:
    """A campaign over SMTP: each envelope built into its message and sent in its own
    transaction on the shared connection."""

    name: ClassVar[str] = "smtp"
    max_batch = 50
    """Small batches: after a crash, at most this many messages are uncertain."""

    def __init__(
        self,
        settings: Settings,
        builder: MessageBuilder,
        *,
        retry_after: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._builder = builder
        self._connection = SmtpConnection(
            settings, retry_after=retry_after, sleep=sleep, clock=clock
        )

    def send(self, batch: Sequence[Envelope]) -> list[Result]:
        results: list[Result] = []
        for envelope in batch:
            message = self._builder.message(envelope).data
            try:
                results.append(
                    self._connection.deliver(envelope.recipient.email, message, envelope.message_id)
                )
            except ProviderError as exc:
                exc.partial = results  # those went out (or failed) before the error: keep them
                raise
        return results

    def close(self) -> None:
        self._connection.close()


PROVIDER = SmtpProvider


def _setup_error(exc: BaseException) -> BaseException:
    """Problems of configuration stop the campaign; anything else is left to the caller."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return ProviderError(
            f"the SMTP server refused the login ({exc.smtp_code}); check the username and password"
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ProviderError(
            f"the SMTP server's certificate is not trusted ({exc.verify_message}); "
            "for a relay with a private CA set smtp_ca_file"
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return ProviderError(
            f"the SMTP server does not support what the settings ask for: {exc}; check smtp_tls"
        )
    return exc


def _expect(reply: tuple[int, bytes], ok: tuple[int, ...] = ()) -> None:
    code, text = reply
    if not (200 <= code < 300 or code in ok):
        raise smtplib.SMTPResponseException(code, text)


def _dot_stuffed(message: bytes) -> bytes:
    """SMTP DATA: a line starting with a dot gets another (RFC 5321 4.5.2), then CRLF.CRLF."""
    body = _LEADING_DOT.sub(b"..", message)
    return body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n"


def check_settings(settings: Settings) -> None:
    """Raise ConfigError now, not at the first message, when the server is not set."""
    SmtpConnection(settings)


def send_transactional(settings: Settings, message: Transactional) -> Result:
    """One message outside any campaign (a sign-up confirmation), on its own connection."""
    connection = SmtpConnection(settings)
    try:
        return connection.deliver(message.to_email, message.wire(settings), message.message_id)
    finally:
        connection.close()
