"""The units feed on the real broker: ``caught_up`` returns once a unit change published
before the call is in the organisation (the feed follows the topic in its own task)."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaProducer, ConsumerRecord

from shared.internal import UNIT_CHANGES_TOPIC
from shared.kafka import client_options
from shared.organisation import Organisation, UnitsFeed
from shared.settings import KafkaSettings
from shared.topics import ensure_topics, internal_topics
from tests.facts import record_value, unit_at


class SlowFeed(UnitsFeed):
    """Takes a while over each chunk it reads, as a busy process would."""

    async def _apply(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        await asyncio.sleep(0.2)
        await super()._apply(records)


async def test_caught_up_returns_once_a_change_published_before_it_is_read(
    kafka_settings: KafkaSettings,
) -> None:
    await ensure_topics(kafka_settings, internal_topics())
    organisation = Organisation()
    feed = SlowFeed(kafka_settings, organisation)
    await feed.start()
    producer = AIOKafkaProducer(**client_options(kafka_settings))
    await producer.start()
    try:
        for _ in range(5):
            unit_id = f"U-{uuid.uuid4().hex[:10]}"
            change = unit_at(unit_id, ["P"], "agency")
            await producer.send_and_wait(
                UNIT_CHANGES_TOPIC, record_value(change), key=unit_id.encode()
            )
            await feed.caught_up()
            assert organisation.get(unit_id) == change
        await feed.caught_up()  # nothing new: returns all the same
    finally:
        await producer.stop()
        await feed.stop()
