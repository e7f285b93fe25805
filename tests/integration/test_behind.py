"""A running personnel service far behind on people applies the backlog in bulk
(services/personnel/behind.py), on the real Kafka and FerretDB: the people as the
independent recomputation says, poison on its DLQ once, each person written far fewer
times than batches would, and every record committed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import partial
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pymongo import AsyncMongoClient

from services.personnel.app import build, consumer_groups
from services.personnel.behind import BULK_PASSES, catch_up_behind
from services.personnel.handlers import apply_records
from services.personnel.store import PersonnelStore
from shared.clock import ManualClock
from shared.contract import PERSONNEL_TOPIC, UNITS_TOPIC, dead_letter_topic
from shared.dead_letters import DeadLetters
from shared.kafka import client_options, topic_group
from shared.settings import KafkaSettings
from shared.store import Document
from tests.generator import Record
from tests.integration.conftest import personnel_settings
from tests.integration.kafka_tools import read_to_end, wait_consumed
from tests.integration.personnel_wiring import ListSink, collaborators
from tests.integration.test_catch_up import PROVINCE, assert_matches_the_recomputation


async def produce(producer: AIOKafkaProducer, records: Sequence[Record]) -> None:
    for record in records:
        await producer.send(
            record.topic, value=record.value, key=record.key, headers=record.headers
        )
    await producer.flush()


@pytest.fixture
async def produced_people(fresh_topics: None, producer: AIOKafkaProducer) -> None:
    await produce(producer, [r for r in PROVINCE.records if r.topic != UNITS_TOPIC])


@pytest.mark.parametrize("catch_up_records", [40, 0], ids=["in bulk", "in batches"])
async def test_a_backlog_behind_a_running_service_is_applied_in_bulk(
    catch_up_records: int,
    fresh_topics: None,
    producer: AIOKafkaProducer,
    kafka_settings: KafkaSettings,
    mongodb_url: str,
    database_name: str,
    mongo: AsyncMongoClient[Document],
    clock: ManualClock,
) -> None:
    clock.set(PROVINCE.now)
    # batches of 10 records; a partition of people (about 127 records) 40 or more behind
    # is read in passes of 40 at most
    settings = personnel_settings(kafka_settings, mongodb_url, database_name).model_copy(
        update={"batch_size": 10, "catch_up_records": catch_up_records}
    )
    # The units first, and the service consumes them: its groups have offsets, so its next
    # start is not a first one (no catch-up at start, catch_up.py).
    await produce(producer, [r for r in PROVINCE.records if r.topic == UNITS_TOPIC])
    units_group = topic_group(settings.group_id, UNITS_TOPIC)
    async with build(settings, clock=clock, changes=ListSink()):
        await wait_consumed(kafka_settings, {units_group: [UNITS_TOPIC]}, timeout=60)
    # The people arrive while it is down, and wait for it as a backlog.
    await produce(producer, [r for r in PROVINCE.records if r.topic != UNITS_TOPIC])
    sink = ListSink()
    async with build(settings, clock=clock, changes=sink):
        await wait_consumed(kafka_settings, consumer_groups(settings.group_id), timeout=120)

    await assert_matches_the_recomputation(mongo, database_name)
    people = {d["_id"] async for d in mongo[database_name]["people"].find()}
    writes = Counter(c.subject for c in sink.changes if c.subject in people)
    events = Counter(
        r.key for r in PROVINCE.records if r.topic == PERSONNEL_TOPIC and r.poison is None
    )
    if catch_up_records:
        # a person is published once per batch or pass that holds her events: 352 for 759
        # events in a run here, 702 in batches
        assert sum(writes.values()) < 0.6 * sum(events.values())
    else:
        assert sum(writes.values()) > 0.8 * sum(events.values())
    poison = [r.value or b"" for r in PROVINCE.records if r.poison and r.topic == PERSONNEL_TOPIC]
    dead = await read_to_end(kafka_settings, dead_letter_topic(PERSONNEL_TOPIC))
    assert poison
    assert sorted(r.value or b"" for r in dead) == sorted(poison)


class Revoked(AIOKafkaConsumer):  # type: ignore[misc]  # aiokafka is untyped
    """A consumer whose partitions go to another member once the bulk has read them."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.asked = 0

    def assignment(self) -> set[TopicPartition]:
        self.asked += 1
        return super().assignment() if self.asked == 1 else set()


@pytest.mark.parametrize("revoked", [False, True], ids=["kept", "revoked meanwhile"])
async def test_the_consumer_seeks_past_the_bulk_unless_the_partition_went_elsewhere(
    revoked: bool,
    produced_people: None,
    kafka_settings: KafkaSettings,
    mongo: AsyncMongoClient[Document],
    database_name: str,
    dead_letters: DeadLetters,
) -> None:
    store = PersonnelStore(mongo[database_name])
    await store.create_indexes()
    await store.build_lookups()
    deps = collaborators(store)
    consumer_type = Revoked if revoked else AIOKafkaConsumer
    consumer = consumer_type(enable_auto_commit=False, **client_options(kafka_settings))
    await consumer.start()
    try:
        partition = TopicPartition(PERSONNEL_TOPIC, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        end = (await consumer.end_offsets([partition]))[partition]
        applied = await catch_up_behind(
            consumer,
            kafka=kafka_settings,
            at_most=20,
            deps=deps,
            apply=partial(apply_records, deps=deps, dead_letters=dead_letters),
        )
        assert applied == min(end, BULK_PASSES * 20)  # read from the start
        assert await mongo[database_name]["people"].count_documents({}) > 0
        position = await consumer.position(partition)
        assert position == (0 if revoked else applied)
    finally:
        await consumer.stop()
