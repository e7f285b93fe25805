"""The outbox worker against the real FerretDB, with channels that fail on purpose: the Kafka
event is retried until Kafka takes it, the other channels give up after the retry budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry

from services.notifications.delivery.outbox import DeliveryFailed, OutboxWorker
from services.notifications.documents import Document, delivery_document
from services.notifications.domain.policy import RetryPolicy
from services.notifications.metrics import make_notification_metrics
from services.notifications.store import NotificationsStore
from shared.clock import ManualClock
from shared.outbound import Notification
from tests.integration.notifications.wiring import Service

START = datetime(2026, 11, 21, 2, 30, tzinfo=UTC)


class Down:
    """A channel whose other end is away (Kafka, the SMTP server): every attempt fails."""

    def __init__(self) -> None:
        self.attempts = 0
        self.up = False

    async def deliver(self, delivery: Document) -> None:
        self.attempts += 1
        if not self.up:
            raise DeliveryFailed("away")


def a_notification(notification_id: str) -> Notification:
    return Notification(
        notification_id=notification_id,
        rule="target_breached",
        unit_id="D1",
        severity="warning",
        title="t",
        body="b",
        raised_at="2026-11-21T09:30:00+07:00",
        details={},
    )


async def test_the_event_channel_never_gives_up_the_others_do(service: Service) -> None:
    store = NotificationsStore(service.db)
    timer = ManualClock(START)
    notification = a_notification(f"target_breached-{service.prefix}")
    await store.record(
        [],
        [
            delivery_document(
                notification,
                channel=channel,
                subscription_id=None if channel == "event" else "s",
                address=None if channel == "event" else "s@example.vn",
                language=None if channel == "event" else "vi",
                now=timer.now(),
            )
            for channel in ("event", "email")
        ],
        {},
    )
    kafka, smtp = Down(), Down()
    policy = RetryPolicy(timedelta(seconds=1), timedelta(seconds=4), max_attempts=3)
    worker = OutboxWorker(
        store=store,
        channels={"event": kafka, "email": smtp},
        timer=timer,
        policy=policy,
        lease=timedelta(seconds=60),
        batch_size=10,
        poll_interval=0.05,
        metrics=make_notification_metrics(CollectorRegistry()),
    )
    for _ in range(10):  # an outage far longer than the retry budget
        await worker.run_once()
        timer.advance(timedelta(seconds=5))  # past the capped wait
    by_channel = {d["channel"]: d for d in await service.deliveries()}
    assert (by_channel["email"]["status"], by_channel["email"]["attempts"]) == ("failed", 3)
    event = by_channel["event"]
    assert (event["status"], event["attempts"]) == ("pending", 10)
    waits = [
        datetime.fromisoformat(b["at"]) - datetime.fromisoformat(a["at"])
        for a, b in zip(event["log"], event["log"][1:], strict=False)
    ]
    assert set(waits) == {timedelta(seconds=5)}  # tried at every pass: the wait stays capped
    kafka.up = True  # Kafka is back: the event goes out, once
    await worker.run_once()
    (event,) = await service.deliveries(channel="event")
    assert (event["status"], event["attempts"]) == ("delivered", 11)
    assert kafka.attempts == 11
