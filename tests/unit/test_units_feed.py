"""shared.organisation.UnitsFeed keeps following the units topic after a failure: the tree
would otherwise stay as it was, and nothing would say so. A unit whose ``on_unit`` failed is
read again, with the units after it in the chunk: none is skipped."""

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


def consumer_record(offset: int, value: bytes) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(
        topic=UNIT_CHANGES_TOPIC, partition=0, offset=offset, timestamp=0,
        timestamp_type=0, key=b"", value=value, checksum=None,
        serialized_key_size=0, serialized_value_size=len(value), headers=(),
    )  # fmt: skip


async def follow_until(event: asyncio.Event, feed: UnitsFeed, consumer: Any) -> None:
    """Let ``feed`` follow ``consumer`` until ``event`` is set (5 s at most)."""
    following = asyncio.create_task(feed._follow(consumer))
    try:
        await asyncio.wait_for(event.wait(), timeout=5)
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)


class FlakyConsumer:
    """Fails its first read, then hands out one record, then has nothing more."""

    def __init__(self, value: bytes) -> None:
        self.value = value
        self.reads = 0

    async def getmany(
        self, *_: TopicPartition, **__: Any
    ) -> dict[TopicPartition, list[ConsumerRecord[Any, Any]]]:
        self.reads += 1
        if self.reads == 1:
            raise KafkaError("the broker went away")
        if self.reads == 2:
            return {PARTITION: [consumer_record(0, self.value)]}
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
    await follow_until(arrived, feed, consumer)
    assert consumer.reads >= 2
    assert organisation.get("D9") is not None
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in failures] == [
        f"following {UNIT_CHANGES_TOPIC} failed; reading on in 0.0 s"
    ]


class PartitionConsumer:
    """One partition's records, read from a position that ``seek`` moves, as aiokafka's."""

    def __init__(self, values: list[bytes]) -> None:
        self.records = [consumer_record(offset, v) for offset, v in enumerate(values)]
        self.position = 0
        self.seeks: list[int] = []

    async def getmany(
        self, *_: TopicPartition, max_records: int, **__: Any
    ) -> dict[TopicPartition, list[ConsumerRecord[Any, Any]]]:
        taken = self.records[self.position : self.position + max_records]
        self.position += len(taken)
        if not taken:
            await asyncio.sleep(0.01)
        return {PARTITION: taken} if taken else {}

    def seek(self, partition: TopicPartition, offset: int) -> None:
        assert partition == PARTITION
        self.seeks.append(offset)
        self.position = offset


async def test_a_unit_whose_callback_failed_is_read_again_with_the_ones_after_it() -> None:
    organisation, calls = Organisation(), []
    done = asyncio.Event()

    async def on_unit(changed: UnitChanged) -> None:
        calls.append(changed.unit_id)
        if calls == ["D1", "D2"]:  # the first time D2 arrives only
            raise RuntimeError("the callback failed")
        if changed.unit_id == "D3":
            done.set()

    feed = UnitsFeed(KafkaSettings(), organisation, on_unit)
    feed.retry_seconds = 0.0
    consumer = PartitionConsumer([record_value(unit(u)) for u in ("D1", "D2", "D3")])
    await follow_until(done, feed, consumer)
    assert calls == ["D1", "D2", "D2", "D3"]  # D2 again, D3 not skipped, D1 not again
    assert consumer.seeks == [1]
    assert all(organisation.get(u) is not None for u in ("D1", "D2", "D3"))
    assert feed._read_to == 3


def test_restore_puts_back_what_was_known() -> None:
    organisation = Organisation()
    first, second = unit("D1"), unit("D1", revision=2)
    organisation.apply(first)
    organisation.apply(second)
    organisation.restore("D1", first)
    assert organisation.get("D1") == first
    organisation.restore("D1", None)
    assert organisation.get("D1") is None
