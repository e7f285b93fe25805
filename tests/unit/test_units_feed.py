"""shared.organisation.UnitsFeed keeps following the units topic after a failure: the tree
would otherwise stay as it was, and nothing would say so."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from shared.internal import UNIT_CHANGES_TOPIC, UnitChanged
from shared.organisation import Organisation, UnitsFeed
from shared.settings import KafkaSettings
from tests.facts import record_value, unit

PARTITION = TopicPartition(UNIT_CHANGES_TOPIC, 0)


class FlakyConsumer:
    """Fails its first read, then hands out one record, then has nothing more."""

    def __init__(self, value: bytes) -> None:
        self.value = value
        self.reads = 0

    async def getmany(self, **_: Any) -> dict[TopicPartition, list[ConsumerRecord[Any, Any]]]:
        self.reads += 1
        if self.reads == 1:
            raise KafkaError("the broker went away")
        if self.reads == 2:
            record = ConsumerRecord(
                topic=UNIT_CHANGES_TOPIC, partition=0, offset=0, timestamp=0,
                timestamp_type=0, key=b"D9", value=self.value, checksum=None,
                serialized_key_size=2, serialized_value_size=len(self.value), headers=(),
            )  # fmt: skip
            return {PARTITION: [record]}
        await asyncio.sleep(0.01)
        return {}


async def test_a_failed_read_is_logged_and_following_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    organisation, arrived = Organisation(), asyncio.Event()

    async def on_unit(_: UnitChanged) -> None:
        arrived.set()

    feed = UnitsFeed(KafkaSettings(), organisation, on_unit)
    feed.retry_seconds = 0.0
    consumer = FlakyConsumer(record_value(unit("D9")))
    following = asyncio.create_task(feed._follow(consumer))
    try:
        await asyncio.wait_for(arrived.wait(), timeout=5)
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
    assert consumer.reads >= 2
    assert organisation.get("D9") is not None
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in failures] == [
        f"following {UNIT_CHANGES_TOPIC} failed; reading on in 0.0 s"
    ]
