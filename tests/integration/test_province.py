"""A whole seeded province through the real Kafka and FerretDB, with the personnel,
inspections and indicators services running, against the independent recomputations of
tests/reference.py and tests/reference_inspections.py.

All fifteen indicators of every unit are checked. The stream carries everything the
contract promises consumers: redeliveries, backdated corrections, references ahead,
future-dated events, poison, both bindings.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from services.indicators.store import SNAPSHOT_EVERY, IndicatorsStore
from services.personnel.app import build as build_personnel
from services.personnel.app import consumer_groups as personnel_groups
from shared.clock import ManualClock
from shared.contract import (
    INDICATORS_TOPIC,
    INSPECTIONS_TOPIC,
    PERSONNEL_TOPIC,
    UNITS_TOPIC,
    dead_letter_topic,
)
from shared.outbound import INDICATOR_IDS
from shared.settings import KafkaSettings
from shared.store import Document
from tests import reference, reference_inspections
from tests.generator import Province, ProvinceShape, generate_province
from tests.integration.conftest import personnel_settings
from tests.integration.kafka_tools import read_to_end, wait_consumed
from tests.integration.province_pipeline import Pipeline, produce_province, running_pipeline


@pytest.fixture
async def pipeline(
    fresh_topics: None,
    kafka_settings: KafkaSettings,
    mongodb_url: str,
    database_name: str,
    clock: ManualClock,
    mongo: AsyncMongoClient[Document],
) -> AsyncIterator[Pipeline]:
    clock.set(PROVINCE.now)
    async with running_pipeline(kafka_settings, mongodb_url, database_name, clock, mongo) as run:
        yield run


# Small enough for FerretDB (about 1,400 records: see the README's measurements).
PROVINCE: Province = generate_province(7, ProvinceShape(agencies=3, years=2))


def latest_by_unit(records: list[Any]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        data = json.loads(record.value)["data"]
        known = latest.get(data["unit_id"])
        if known is None or known["version"] < data["version"]:
            latest[data["unit_id"]] = data
    return latest


def figures(status: dict[str, Any]) -> dict[str, tuple[int, int | None]]:
    return {
        name: (status["indicators"][name]["numerator"], status["indicators"][name]["denominator"])
        for name in INDICATOR_IDS
    }


async def test_the_feed_matches_the_independent_recomputation(
    pipeline: Pipeline,
    producer: AIOKafkaProducer,
    kafka_settings: KafkaSettings,
    mongo: AsyncMongoClient[Document],
) -> None:
    await produce_province(producer, PROVINCE)
    await pipeline.settle()

    events = PROVINCE.events()
    world = reference.replay(events, PROVINCE.now)
    expected = reference.indicators(world, PROVINCE.now)
    for unit_id, figures_ in reference_inspections.indicators(events, PROVINCE.now, world).items():
        expected[unit_id].update(figures_)
    latest = latest_by_unit(await read_to_end(kafka_settings, INDICATORS_TOPIC))

    active = {u for u, s in latest.items() if s["active"]}
    assert active == set(expected)
    mismatches = {
        unit_id: {
            name: (got, expected[unit_id][name])
            for name, got in figures(latest[unit_id]).items()
            if got != expected[unit_id][name]
        }
        for unit_id in expected
    }
    assert {u: m for u, m in mismatches.items() if m} == {}

    closed = {u for u, unit in world.units.items() if unit.closed}
    assert {u for u, s in latest.items() if not s["active"]} == closed

    # The store's last record is the last one published, unit by unit.
    indicators_db = mongo[f"{pipeline.database}_indicators"]
    stored = await IndicatorsStore(indicators_db).load_published(latest)
    assert {u: p.version for u, p in stored.items()} == {u: s["version"] for u, s in latest.items()}
    # The snapshot stands at a page every SNAPSHOT_EVERY-th, the pages after it are fewer,
    # and it and they say the same as the records read.
    snapshot = await indicators_db["meta"].find_one({"_id": "published"})
    assert snapshot is not None
    pages = await indicators_db["indicator_history"].count_documents({})
    assert snapshot["page"] % SNAPSHOT_EVERY == 0
    assert pages - SNAPSHOT_EVERY < snapshot["page"] <= pages
    index = await IndicatorsStore(indicators_db).published_index()
    assert {u: s.version for u, s in index.seen.items()} == {
        u: p.version for u, p in stored.items()
    }

    # Every poison record is on its dead-letter topic, and nothing else is.
    poison = [r for r in PROVINCE.records if r.poison is not None]
    for topic in (UNITS_TOPIC, PERSONNEL_TOPIC, INSPECTIONS_TOPIC):
        dead = await read_to_end(kafka_settings, dead_letter_topic(topic))
        assert len(dead) == sum(1 for r in poison if r.topic == topic)
        assert all(dict(r.headers).get("parity_error") for r in dead)


async def without_revisions(collection: Any) -> dict[str, Document]:
    return {d["_id"]: {k: v for k, v in d.items() if k != "rev"} async for d in collection.find()}


def person_view(doc: Document) -> tuple[Any, ...]:
    return (
        doc["gender"],
        doc["home_unit_id"],
        doc["left_reason"] is not None,
        sorted((p["unit_id"], p["role"]) for p in doc["positions"]),
        sorted((e["unit_id"], e["role"], e["period"]) for e in doc["planning_entries"]),
        len(doc["trainings"]),
    )


def reference_view(person: reference.PersonState) -> tuple[Any, ...]:
    return (
        person.gender,
        person.home_unit_id,
        person.left,
        sorted(person.positions),
        sorted(person.planning),
        len(person.trainings),
    )


async def test_the_projections_match_the_recomputation_and_a_replay_gives_the_same(
    pipeline: Pipeline,
    producer: AIOKafkaProducer,
    kafka_settings: KafkaSettings,
    mongodb_url: str,
    mongo: AsyncMongoClient[Document],
    clock: ManualClock,
) -> None:
    await produce_province(producer, PROVINCE)
    await pipeline.settle()
    world = reference.replay(PROVINCE.events(), PROVINCE.now)
    people = mongo[pipeline.database]["people"]
    projected = {d["_id"]: d async for d in people.find({"registered": True})}
    assert set(projected) == set(world.people)
    assert {p: person_view(d) for p, d in projected.items()} == {
        p: reference_view(state) for p, state in world.people.items()
    }
    units = {d["_id"]: d async for d in mongo[pipeline.database]["units"].find()}
    assert {u for u, d in units.items() if d["registered"]} == set(world.units)
    assert {u: (d["parent_id"], not d["active"]) for u, d in units.items() if d["registered"]} == {
        u: (state.parent_id, state.closed) for u, state in world.units.items()
    }

    # The same topics read again from the start by a second instance: identical projections.
    replay_database = f"{pipeline.database}_replay"
    settings = personnel_settings(kafka_settings, mongodb_url, replay_database)
    settings.sweep_interval_seconds = 1.0
    async with build_personnel(settings, clock=clock):
        await wait_consumed(
            kafka_settings,
            personnel_groups(settings.group_id),
            timeout=240,
        )
    try:
        for collection in ("people", "units"):
            # Everything but ``rev``, which counts writes, and writes depend on batching.
            first = await without_revisions(mongo[pipeline.database][collection])
            again = await without_revisions(mongo[replay_database][collection])
            assert set(first) == set(again), collection
            differing = {k for k in first if first[k] != again[k]}
            assert differing == set(), (collection, sorted(differing)[:3])
    finally:
        await mongo.drop_database(replay_database)
