"""The personnel service's bulk catch-up (services/personnel/catch_up.py) on the real Kafka and
FerretDB: a province produced before the service first starts is applied with each person
written once, as the independent recomputation says; a catch-up that fails commits
nothing, so the next start does it again; empty topics are left to the subscribers; and
the ends are not committed over a member that joined a group meanwhile."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pymongo import AsyncMongoClient

from services.personnel.app import build, consumer_groups
from services.personnel.catch_up import catch_up, commit_ends
from services.personnel.changes import Change
from services.personnel.store import PersonnelStore
from shared.clock import ManualClock
from shared.contract import PERSONNEL_TOPIC, UNITS_TOPIC, dead_letter_topic
from shared.dead_letters import DeadLetters
from shared.internal import PERSON_CHANGED
from shared.kafka import client_options
from shared.lag import LagProbe
from shared.settings import KafkaSettings
from shared.store import Document
from tests import reference
from tests.generator import Province, ProvinceShape, generate_province
from tests.integration.conftest import personnel_settings
from tests.integration.kafka_tools import eventually, read_to_end, wait_consumed
from tests.integration.personnel_wiring import ListSink, collaborators
from tests.integration.province_pipeline import produce_province
from tests.integration.test_province import person_view, reference_view

PROVINCE: Province = generate_province(11, ProvinceShape(agencies=2, years=2))


@pytest.fixture
async def produced(fresh_topics: None, producer: AIOKafkaProducer) -> None:
    await produce_province(producer, PROVINCE)


async def committed(kafka: KafkaSettings, group: str) -> dict[TopicPartition, int]:
    probe = LagProbe(kafka, client_id="tests-catch-up")
    await probe.start()
    try:
        return await probe.committed(group)
    finally:
        await probe.close()


async def assert_matches_the_recomputation(mongo: AsyncMongoClient[Document], db: str) -> None:
    world = reference.replay(PROVINCE.events(), PROVINCE.now)
    projected = {d["_id"]: d async for d in mongo[db]["people"].find({"registered": True})}
    assert {p: person_view(d) for p, d in projected.items()} == {
        p: reference_view(state) for p, state in world.people.items()
    }
    units = {d["_id"] async for d in mongo[db]["units"].find({"registered": True})}
    assert units == set(world.units)


async def test_a_backlog_is_applied_with_each_person_written_once(
    produced: None,
    kafka_settings: KafkaSettings,
    mongodb_url: str,
    database_name: str,
    mongo: AsyncMongoClient[Document],
    clock: ManualClock,
) -> None:
    clock.set(PROVINCE.now)
    # Batches of 20 records would write most people several times; passes of 150 records
    # at most read each partition in several passes.
    settings = personnel_settings(kafka_settings, mongodb_url, database_name).model_copy(
        update={"batch_size": 20, "catch_up_records": 150}
    )
    sink = ListSink()
    async with build(settings, clock=clock, changes=sink):
        await wait_consumed(kafka_settings, consumer_groups(settings.group_id), timeout=120)
    await assert_matches_the_recomputation(mongo, database_name)
    revisions = {d["_id"]: d["rev"] async for d in mongo[database_name]["people"].find()}
    assert set(revisions.values()) == {1}
    published = [c.subject for c in sink.changes if c.subject in revisions]
    assert sorted(published) == sorted(revisions)  # one change a person
    # every poison record is on its topic's dead-letter topic, once
    poison = [r for r in PROVINCE.records if r.poison is not None]
    assert any(r.topic == PERSONNEL_TOPIC for r in poison)
    for topic in (UNITS_TOPIC, PERSONNEL_TOPIC):
        dead = await read_to_end(kafka_settings, dead_letter_topic(topic))
        expected = [r.value or b"" for r in poison if r.topic == topic]
        assert sorted(r.value or b"" for r in dead) == sorted(expected)


async def test_a_failed_catch_up_commits_nothing_and_the_next_start_does_it_again(
    produced: None,
    kafka_settings: KafkaSettings,
    database_name: str,
    mongo: AsyncMongoClient[Document],
    dead_letters: DeadLetters,
) -> None:
    group_id = "test-catch-up-" + database_name
    store = PersonnelStore(mongo[database_name])
    await store.create_indexes()
    await store.build_lookups()

    async def start(changes: ListSink) -> bool:
        deps = collaborators(store, changes)
        return await catch_up(
            kafka=kafka_settings,
            group_id=group_id,
            at_most=400,
            deps=deps,
            dead_letters=dead_letters,
        )

    refusing = RefusesAfter(1)
    with pytest.raises(RuntimeError, match="refused"):
        await start(refusing)
    assert refusing.published, "it failed part-way, after some people were written"
    for group in consumer_groups(group_id):
        assert await committed(kafka_settings, group) == {}
    assert await start(ListSink())
    await assert_matches_the_recomputation(mongo, database_name)
    # the groups now start where the backlog ended, and a later start skips the bulk
    for group, (topic,) in consumer_groups(group_id).items():
        offsets = await committed(kafka_settings, group)
        assert sum(offsets.values()) == sum(1 for r in PROVINCE.records if r.topic == topic)
    assert not await start(ListSink())


class RefusesAfter(ListSink):
    """A change topic that takes ``n`` publications of people and refuses those after."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.published = 0

    async def publish(self, changes: list[Change]) -> None:
        if any(c.type == PERSON_CHANGED for c in changes):
            if self.published == self.n:
                raise RuntimeError("the change topic refused")
            self.published += 1
        await super().publish(changes)


async def test_the_ends_are_not_committed_over_a_member_that_joined_meanwhile(
    fresh_topics: None, kafka_settings: KafkaSettings
) -> None:
    group = f"test-catch-up-member-{uuid.uuid4().hex[:8]}"
    member = AIOKafkaConsumer(
        PERSONNEL_TOPIC, group_id=group, enable_auto_commit=False, **client_options(kafka_settings)
    )
    await member.start()
    try:

        async def assigned() -> set[TopicPartition]:
            await member.getmany(timeout_ms=100)
            return set(member.assignment())

        ends = {tp: 0 for tp in await eventually(assigned, bool)}
        assert not await commit_ends(kafka_settings, group, ends)
        assert await committed(kafka_settings, group) == {}
    finally:
        await member.stop()
    # with the group empty again, the ends are taken
    assert await commit_ends(kafka_settings, group, ends)
    assert await committed(kafka_settings, group) == ends


async def test_empty_topics_are_left_to_the_subscribers(
    fresh_topics: None,
    kafka_settings: KafkaSettings,
    database_name: str,
    mongo: AsyncMongoClient[Document],
    dead_letters: DeadLetters,
) -> None:
    group_id = "test-catch-up-" + database_name
    deps = collaborators(PersonnelStore(mongo[database_name]))
    assert not await catch_up(
        kafka=kafka_settings, group_id=group_id, at_most=400, deps=deps, dead_letters=dead_letters
    )
    for group in consumer_groups(group_id):
        assert await committed(kafka_settings, group) == {}
