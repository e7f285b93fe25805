"""Small tools the integration tests use against the real Kafka: produce, read, reset topics."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.envelope import CloudEvent, encode_binary, encode_structured
from shared.kafka import client_options, records_to_end
from shared.lag import LagProbe, wait_caught_up
from shared.settings import KafkaSettings
from shared.topics import TopicSpec, ensure_topics

T = TypeVar("T")


async def recreate_topics(settings: KafkaSettings, specs: Sequence[TopicSpec]) -> None:
    """Delete the topics and create them empty, so a test starts from a clean stream."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [s.name for s in specs if s.name in existing]
        if doomed:
            await admin.delete_topics(doomed)
            deadline = time.monotonic() + 30
            while set(doomed) & set(await admin.list_topics()):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"topics not deleted: {doomed}")
                await asyncio.sleep(0.2)
    finally:
        await admin.close()
    deadline = time.monotonic() + 30
    while True:  # Kafka may still be removing the old partitions
        try:
            await ensure_topics(settings, specs)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def produce(
    producer: AIOKafkaProducer,
    topic: str,
    events: Iterable[CloudEvent],
    *,
    binary: bool = False,
) -> None:
    for event in events:
        value, headers = encode_binary(event) if binary else encode_structured(event)
        await producer.send_and_wait(
            topic, value=value, key=event.subject.encode(), headers=headers
        )


async def produce_raw(
    producer: AIOKafkaProducer,
    topic: str,
    records: Iterable[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]],
) -> None:
    futures = [
        await producer.send(topic, value=value, key=key, headers=headers)
        for key, value, headers in records
    ]
    await asyncio.gather(*futures)


async def read_all(
    settings: KafkaSettings,
    topic: str,
    *,
    until: Callable[[list[ConsumerRecord[Any, Any]]], bool],
    timeout: float = 30.0,
) -> list[ConsumerRecord[Any, Any]]:
    """Read a topic from the beginning until ``until(records)`` holds (or fail on timeout)."""
    consumer = AIOKafkaConsumer(
        topic,
        group_id=f"test-reader-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **client_options(settings),
    )
    await consumer.start()
    records: list[ConsumerRecord[Any, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while not until(records):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: condition not met with {len(records)} records")
            batch = await consumer.getmany(timeout_ms=200)
            for partition_records in batch.values():
                records.extend(partition_records)
        return records
    finally:
        await consumer.stop()


async def eventually(
    probe: Callable[[], Awaitable[T]],
    check: Callable[[T], bool],
    *,
    timeout: float = 30.0,
    interval: float = 0.1,
) -> T:
    """Poll ``probe`` until ``check`` accepts its value; return it, or fail with the last one."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout} s; last value: {value!r}")
        await asyncio.sleep(interval)


async def lag(settings: KafkaSettings, group_id: str, topics: Sequence[str]) -> int:
    """Records of ``topics`` not yet committed by ``group_id`` (all of them if none is)."""
    probe = LagProbe(settings, client_id="tests-lag")
    await probe.start()
    try:
        return sum((await probe.lag(group_id, topics)).values())
    finally:
        await probe.close()


async def _partitions(admin: AIOKafkaAdminClient, topic: str) -> list[TopicPartition]:
    """The topic's partitions; an error if it has none (it does not exist)."""
    (description,) = await admin.describe_topics([topic])
    numbers = sorted(p["partition"] for p in description["partitions"])
    if not numbers:
        raise LookupError(f"topic {topic} has no partitions: {description}")
    return [TopicPartition(topic, n) for n in numbers]


async def wait_consumed(
    settings: KafkaSettings, groups: Mapping[str, Sequence[str]], *, timeout: float = 120.0
) -> None:
    """Wait until every group has committed everything in its topics (twice in a row)."""
    probe = LagProbe(settings, client_id="tests-wait-consumed")
    await probe.start()
    try:
        await wait_caught_up(probe, groups, timeout=timeout)
    except TimeoutError as error:
        raise AssertionError(str(error)) from error
    finally:
        await probe.close()


async def read_to_end(settings: KafkaSettings, topic: str) -> list[ConsumerRecord[Any, Any]]:
    """Every record of a topic, as far as it goes now."""
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **client_options(settings))
    admin = AIOKafkaAdminClient(**client_options(settings))
    await consumer.start()
    await admin.start()
    try:
        partitions = await _partitions(admin, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[ConsumerRecord[Any, Any]] = []
        for partition in partitions:
            async for batch in records_to_end(consumer, partition):
                records.extend(batch)
        return records
    finally:
        await consumer.stop()
        await admin.close()
