"""Transactional mail: one message to one person outside any campaign (sign-up confirmations).

Marked as such (Auto-Submitted, a category of its own) and without List-Unsubscribe: it is
the answer to something the reader just did, not newsletter mail. Rare, so Python's own
EmailMessage builds it; campaign mail has its own fast builder in mime.py.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import secrets
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from newsletter.config import Settings

__all__ = ["Transactional", "new_message_id"]


@dataclass(frozen=True)
class Transactional:
    to_email: str
    to_name: str | None
    subject: str
    html: str
    text: str
    message_id: str
    category: str = "transactional"

    def wire(self, settings: Settings) -> bytes:
        """The message in SMTP wire form (CRLF, 7-bit transfer encodings)."""
        message = EmailMessage(policy=email.policy.SMTP)
        message["From"] = Address(settings.sender_name, addr_spec=settings.from_email)
        message["To"] = Address(self.to_name or "", addr_spec=self.to_email)
        message["Subject"] = self.subject
        message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
        message["Message-ID"] = self.message_id
        message["Auto-Submitted"] = "auto-generated"
        if settings.reply_to:
            message["Reply-To"] = settings.reply_to
        message.set_content(self.text, cte="quoted-printable")
        message.add_alternative(self.html, subtype="html", cte="quoted-printable")
        return message.as_bytes()


def new_message_id(settings: Settings) -> str:
    """A fresh Message-ID on the sending domain."""
    return f"<{secrets.token_hex(16)}@{settings.sending_domain}>"
