"""The top-up consumer (shared/consuming.py) on the real Kafka: a batch takes the records
that arrived while the one before it was handled, and the services' subscribers use it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from faststream.kafka.annotations import KafkaMessage
from prometheus_client import CollectorRegistry

from shared.consuming import TopUpConsumer
from shared.kafka import client_options, make_broker
from shared.settings import KafkaSettings
from shared.topics import TopicSpec, ensure_topics
from tests.integration.kafka_tools import eventually


@pytest.fixture
async def topic(kafka_settings: KafkaSettings) -> str:
    name = f"test.consuming.{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_settings, [TopicSpec(name, 3)])
    return name


@pytest.fixture
async def consumer(kafka_settings: KafkaSettings, topic: str) -> AsyncIterator[TopUpConsumer]:
    consumer = TopUpConsumer(
        topic,
        group_id=f"test-consuming-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        top_up_ms=1000,  # the mechanism, not its timing: a loaded machine fetches slowly
        **client_options(kafka_settings),
    )
    await consumer.start()
    yield consumer
    await consumer.stop()


def values(batch: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]) -> dict[int, list[bytes]]:
    return {tp.partition: [r.value for r in records] for tp, records in batch.items()}


async def send(producer: AIOKafkaProducer, topic: str, partition: int, value: bytes) -> None:
    await producer.send_and_wait(topic, value=value, partition=partition)


async def test_a_batch_takes_what_arrived_while_the_last_one_was_handled(
    topic: str, consumer: TopUpConsumer, producer: AIOKafkaProducer
) -> None:
    """The first record to arrive while a batch is handled is fetched and held; aiokafka
    then fetches nothing for 100 ms (its prefetch backoff), so a plain consumer's next
    batch is that record alone."""
    await send(producer, topic, 0, b"first")
    assert values(await consumer.getmany(timeout_ms=30_000)) == {0: [b"first"]}

    # the last batch is being handled: the next record arrives and is fetched ...
    await send(producer, topic, 0, b"a")
    await asyncio.sleep(0.03)
    # ... and these arrive after it, within the fetcher's backoff
    for partition, value in ((0, b"b"), (1, b"c"), (2, b"d")):
        await send(producer, topic, partition, value)
    await asyncio.sleep(0.03)

    batch = values(await consumer.getmany(timeout_ms=30_000))
    assert batch == {0: [b"a", b"b"], 1: [b"c"], 2: [b"d"]}


async def test_a_batch_that_had_just_come_is_not_topped_up(
    kafka_settings: KafkaSettings, topic: str, producer: AIOKafkaProducer
) -> None:
    """The consumer was waiting for the record: nothing waits behind it at the broker, and
    the batch does not wait the top-up's time for more."""
    consumer = TopUpConsumer(
        topic,
        group_id=f"test-consuming-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        top_up_after_ms=5_000,
        top_up_ms=60_000,
        **client_options(kafka_settings),
    )
    await consumer.start()
    try:
        await send(producer, topic, 0, b"alone")
        batch = await asyncio.wait_for(consumer.getmany(timeout_ms=30_000), timeout=45)
    finally:
        await consumer.stop()
    assert values(batch) == {0: [b"alone"]}


async def test_a_topped_up_batch_keeps_to_max_records(
    topic: str, consumer: TopUpConsumer, producer: AIOKafkaProducer
) -> None:
    for n in range(10):
        await send(producer, topic, 0, str(n).encode())
    first = values(await consumer.getmany(timeout_ms=30_000, max_records=4))
    rest = values(await consumer.getmany(timeout_ms=30_000, max_records=100))
    assert first == {0: [b"0", b"1", b"2", b"3"]}
    assert rest == {0: [str(n).encode() for n in range(4, 10)]}


async def test_the_services_subscribers_are_built_on_it(
    kafka_settings: KafkaSettings, topic: str, producer: AIOKafkaProducer
) -> None:
    settings = kafka_settings.model_copy(update={"batch_top_up_ms": 7})
    broker = make_broker(settings, service="test", registry=CollectorRegistry())
    received: list[bytes] = []
    subscriber = broker.subscriber(
        topic,
        group_id=f"test-consuming-{uuid.uuid4().hex[:8]}",
        batch=True,
        auto_offset_reset="earliest",
    )

    @subscriber
    async def handle(msg: KafkaMessage) -> None:
        received.extend(r.value for r in msg.raw_message)

    async with broker:
        await broker.start()
        assert isinstance(subscriber.consumer, TopUpConsumer)
        assert (subscriber.consumer.top_up_ms, subscriber.consumer.top_up_after_ms) == (7, 7)
        await send(producer, topic, 1, b"handled")

        async def handled() -> list[bytes]:
            return received

        assert await eventually(handled, lambda got: got == [b"handled"]) == [b"handled"]
