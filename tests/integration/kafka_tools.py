"""Small tools the integration tests use against the real Kafka: produce, read, reset topics."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient

from shared.envelope import CloudEvent, encode_binary, encode_structured
from shared.kafka import TopicSpec, client_options, ensure_topics
from shared.settings import KafkaSettings

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
