"""The ``email`` channel: a plain-text message through SMTP (aiosmtplib), to the address the
subscription has at the attempt (``delivery.recipients``), in its language."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from email.header import Header
from email.mime.text import MIMEText

import aiosmtplib

from services.notifications.delivery.outbox import DeliveryFailed
from services.notifications.delivery.recipients import SubscriptionLookup, current_recipient
from services.notifications.documents import Document
from services.notifications.domain.messages import Language, render


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    user: str | None
    password: str | None
    tls: str  # none, starttls, tls
    timeout: float
    sender: str


def email_message(delivery: Document, *, sender: str, address: str, language: Language) -> MIMEText:
    """The message for one delivery, in the subscriber's language; its Message-ID is stable,
    so a mail system can recognise a repeat. (The subject goes through ``Header``, which
    splits long Vietnamese text into encoded words without losing the spaces between them.)"""
    notification = delivery["notification"]
    title, body = render(notification["rule"], notification["details"], language)
    message = MIMEText(f"{body}\n\n-- \n{notification['notification_id']}\n", "plain", "utf-8")
    message["From"] = sender
    message["To"] = address
    message["Subject"] = Header(title, "utf-8")  # type: ignore[assignment]  # as email.header documents
    digest = hashlib.sha256(delivery["_id"].encode()).hexdigest()[:32]
    message["Message-ID"] = f"<{digest}@parity.notifications>"
    message["X-Parity-Notification-Id"] = notification["notification_id"]
    return message


def recipients_refused(error: aiosmtplib.SMTPRecipientsRefused) -> DeliveryFailed:
    """Every recipient was refused, each with its own code: permanent only if every code is
    5xx (a 4xx, such as greylisting's ``451 4.7.1``, asks to try again later)."""
    refusals = [(r.code, r.message) for r in error.recipients]
    permanent = bool(refusals) and all(code >= 500 for code, _ in refusals)
    reasons = "; ".join(f"{code} {message}" for code, message in refusals)
    return DeliveryFailed(f"SMTP recipient refused: {reasons or error}", permanent=permanent)


class EmailSender:
    def __init__(
        self, server: SmtpServer, *, subscription_of: SubscriptionLookup, language: Language
    ) -> None:
        self._server = server
        self._subscription_of = subscription_of  # subscription id → it, now (None: removed)
        self._language = language  # the service's, for a subscription that names none

    async def deliver(self, delivery: Document) -> None:
        server = self._server
        subscription, address = await current_recipient(
            delivery, subscription_of=self._subscription_of
        )
        language = subscription.language or self._language
        message = email_message(delivery, sender=server.sender, address=address, language=language)
        try:
            # aiosmtplib's timeout is per command; the whole exchange gets the same bound, so
            # that an attempt ends before its lease does (settings: lease > timeout) and no
            # other replica sends the message a second time meanwhile
            async with asyncio.timeout(server.timeout):
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
            raise recipients_refused(error) from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise DeliveryFailed(f"SMTP: {error!r}") from error
