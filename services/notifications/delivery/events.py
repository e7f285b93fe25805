"""Notifications as CloudEvents on ``gender-equality.notifications.v1`` (contract section 4).

The event's ``id`` is the notification id, so a re-publication is recognisable; its key and
``subject`` are the unit; its ``time`` is when the notification was raised. Webhooks POST
the very same event.
"""

from __future__ import annotations

from datetime import datetime

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.notifications.delivery.outbox import DeliveryFailed
from services.notifications.documents import Document
from shared.envelope import CloudEvent, encode_structured, new_event
from shared.outbound import NOTIFICATION_EVENT_TYPE, Notification

NOTIFICATIONS_SOURCE = "parity/notifications"


def notification_event(notification: Notification) -> CloudEvent:
    return new_event(
        source=NOTIFICATIONS_SOURCE,
        type_=NOTIFICATION_EVENT_TYPE,
        subject=notification.unit_id,
        time=datetime.fromisoformat(notification.raised_at),
        data=notification.model_dump(mode="json"),
        event_id=notification.notification_id,
    )


class EventPublisher:
    """The ``event`` channel: publishes the notification on the notifications topic."""

    def __init__(self, *, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def deliver(self, delivery: Document) -> None:
        notification = Notification.model_validate(delivery["notification"])
        value, headers = encode_structured(notification_event(notification))
        try:
            await self._producer.send_and_wait(
                self._topic, value=value, key=notification.unit_id.encode(), headers=headers
            )
        except KafkaError as error:
            raise DeliveryFailed(f"Kafka: {error!r}") from error
