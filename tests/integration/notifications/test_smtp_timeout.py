"""An e-mail attempt ends within the SMTP timeout however slowly the server answers, each
command just within it: the attempt must end before its lease does, or another replica
would send the message again (aiosmtplib's own timeout is per command)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from services.notifications.delivery.email import EmailSender, SmtpServer
from services.notifications.delivery.outbox import DeliveryFailed
from services.notifications.documents import delivery_document
from services.notifications.domain.subscriptions import Subscription
from tests.integration.notifications.test_outbox import a_notification
from tests.integration.notifications.wiring import free_port

TIMEOUT = 1.0


class Slow:
    """Answers MAIL, RCPT and DATA each after most of the timeout."""

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        await asyncio.sleep(TIMEOUT * 0.6)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        await asyncio.sleep(TIMEOUT * 0.6)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(TIMEOUT * 0.6)
        return "250 Message accepted"


async def test_an_attempt_ends_within_the_timeout_when_every_command_is_slow() -> None:
    port = free_port()
    controller = Controller(Slow(), hostname="127.0.0.1", port=port)
    await asyncio.to_thread(controller.start)
    subscription = Subscription(id="s", name="S", email="s@example.vn")

    async def subscription_of(subscription_id: str) -> Subscription | None:
        return subscription

    server = SmtpServer(
        host="127.0.0.1", port=port, user=None, password=None, tls="none",
        timeout=TIMEOUT, sender="parity@example.vn",
    )  # fmt: skip
    sender = EmailSender(server, subscription_of=subscription_of, language="vi")
    details = {
        "unit_name": "Phòng D1",
        "recommendation_id": "R1",
        "inspection_id": "I1",
        "due": "2026-10-01",
    }
    notification = a_notification("recommendation_overdue-slow").model_copy(
        update={"rule": "recommendation_overdue", "details": details}
    )
    delivery = delivery_document(
        notification,
        channel="email",
        subscription_id="s",
        address="s@example.vn",
        language="vi",
        now=datetime(2026, 11, 21, tzinfo=UTC),
    )
    started = time.monotonic()
    try:
        with pytest.raises(DeliveryFailed) as failed:
            await sender.deliver(delivery)
    finally:
        await asyncio.to_thread(controller.stop)
    assert time.monotonic() - started < TIMEOUT * 1.5
    assert not failed.value.permanent  # tried again later
