"""The ``email`` channel: a plain-text message through SMTP (aiosmtplib)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.header import Header
from email.mime.text import MIMEText

import aiosmtplib

from services.notifications.delivery.outbox import DeliveryFailed
from services.notifications.documents import Document
from services.notifications.domain.messages import render


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    user: str | None
    password: str | None
    tls: str  # none, starttls, tls
    timeout: float
    sender: str


def email_message(delivery: Document, *, sender: str) -> MIMEText:
    """The message for one delivery, in the subscriber's language; its Message-ID is stable,
    so a mail system can recognise a repeat. (The subject goes through ``Header``, which
    splits long Vietnamese text into encoded words without losing the spaces between them.)"""
    notification = delivery["notification"]
    title, body = render(notification["rule"], notification["details"], delivery["language"])
    message = MIMEText(f"{body}\n\n-- \n{notification['notification_id']}\n", "plain", "utf-8")
    message["From"] = sender
    message["To"] = delivery["address"]
    message["Subject"] = Header(title, "utf-8")  # type: ignore[assignment]  # as email.header documents
    digest = hashlib.sha256(delivery["_id"].encode()).hexdigest()[:32]
    message["Message-ID"] = f"<{digest}@parity.notifications>"
    message["X-Parity-Notification-Id"] = notification["notification_id"]
    return message


class EmailSender:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def deliver(self, delivery: Document) -> None:
        server = self._server
        message = email_message(delivery, sender=server.sender)
        try:
            await aiosmtplib.send(
                message,
                hostname=server.host,
                port=server.port,
                username=server.user,
                password=server.password,
                use_tls=server.tls == "tls",
                start_tls=server.tls == "starttls",
                timeout=server.timeout,
            )
        except aiosmtplib.SMTPResponseException as error:
            # 5xx: the server refuses this message for good; 4xx: try again later
            raise DeliveryFailed(
                f"SMTP {error.code}: {error.message}", permanent=error.code >= 500
            ) from error
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise DeliveryFailed(f"SMTP recipient refused: {error}", permanent=True) from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise DeliveryFailed(f"SMTP: {error!r}") from error
