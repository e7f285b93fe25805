"""The indicator service alone on the real Kafka and FerretDB, fed through its input topics:
records on the feed, changes with no event arriving (a new year), poison, the drift check."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from services.indicators.app import IndicatorsSettings, build
from services.indicators.drift import check
from services.indicators.metrics import IndicatorMetrics, make_indicator_metrics
from services.indicators.people import PeopleTopic
from services.indicators.store import IndicatorsStore
from shared.clock import VIETNAM, ManualClock
from shared.contract import INDICATORS_TOPIC, dead_letter_topic
from shared.documents import packed, unpacked
from shared.envelope import encode_structured, new_event
from shared.internal import (
    INSPECTION_STATUS_TOPIC,
    PEOPLE_CHANGES_TOPIC,
    PERSON_CHANGED,
    UNIT_CHANGED,
    UNIT_CHANGES_TOPIC,
)
from shared.lag import LAG_METRIC
from shared.plans import load_plans
from shared.settings import KafkaSettings
from shared.store import Document
from tests.facts import person, unit
from tests.integration.kafka_tools import eventually, read_to_end

PLANS = load_plans(Path(__file__).resolve().parents[2] / "deploy" / "plans")
NOW = datetime(2026, 12, 31, 20, 0, tzinfo=VIETNAM)


@dataclass
class Indicators:
    settings: IndicatorsSettings
    clock: ManualClock
    db: Any
    metrics: IndicatorMetrics


@pytest.fixture
async def indicators(
    fresh_topics: None,
    kafka_settings: KafkaSettings,
    mongodb_url: str,
    database_name: str,
    mongo: AsyncMongoClient[Document],
) -> AsyncIterator[Indicators]:
    clock = ManualClock(NOW)
    settings = IndicatorsSettings(
        mongodb_url=mongodb_url,
        mongodb_database=database_name,
        group_id=f"test-indicators-{uuid.uuid4().hex[:8]}",
        kafka=kafka_settings,
        sweep_interval_seconds=0.2,
        consumer_lag_interval_seconds=0.5,
    )
    metrics = make_indicator_metrics()
    async with build(settings, clock=clock, plans=PLANS, metrics=metrics):
        yield Indicators(settings, clock, mongo[database_name], metrics)


async def send(producer: AIOKafkaProducer, topic: str, type_: str, subject: str, data: Any) -> None:
    event = new_event(source="test", type_=type_, subject=subject, time=NOW, data=data)
    value, headers = encode_structured(event)
    await producer.send_and_wait(topic, value=value, key=subject.encode(), headers=headers)


async def feed(settings: KafkaSettings) -> dict[str, list[dict[str, Any]]]:
    by_unit: dict[str, list[dict[str, Any]]] = {}
    for record in await read_to_end(settings, INDICATORS_TOPIC):
        data = json.loads(record.value)["data"]
        by_unit.setdefault(data["unit_id"], []).append(data)
    return by_unit


def figure(status: dict[str, Any], name: str) -> tuple[int, int | None]:
    value = status["indicators"][name]
    return value["numerator"], value["denominator"]


async def test_feed_new_year_poison_and_drift_check(
    indicators: Indicators, producer: AIOKafkaProducer, kafka_settings: KafkaSettings
) -> None:
    tree = ("P", "A", "D1", "D2", "D3")
    for unit_id in tree:
        data = unit(unit_id).model_dump()
        await send(producer, UNIT_CHANGES_TOPIC, UNIT_CHANGED, unit_id, data)
    appointed = NOW - timedelta(days=30)
    woman = person("W1", positions=(("D1", "head"),), appointments=(("D1", appointed),))
    await send(producer, PEOPLE_CHANGES_TOPIC, PERSON_CHANGED, "W1", woman.model_dump())
    await producer.send_and_wait(PEOPLE_CHANGES_TOPIC, value=b"{not json", key=b"W9")

    async def agency() -> dict[str, Any] | None:
        records = (await feed(kafka_settings)).get("A", [])
        return records[-1] if records else None

    # the three topics are fetched independently: wait for a record that knows every division
    status = await eventually(
        agency,
        lambda s: (
            s is not None
            and figure(s, "female_leader_share") == (1, 1)
            and figure(s, "female_key_leader_division_share")[1] == 3
        ),
    )
    assert status is not None
    assert figure(status, "female_key_leader_division_share") == (1, 3)
    assert figure(status, "female_share_of_appointments_ytd") == (1, 1)
    target = status["indicators"]["female_key_leader_division_share"]["target"]
    assert target is None  # the plans' scope is U-0001, not this tree
    dead = await read_to_end(kafka_settings, dead_letter_topic(PEOPLE_CHANGES_TOPIC))
    assert [dict(r.headers)["parity_error"] for r in dead] != []

    # No event arrives; the year turns in Vietnam: this year's appointments are none.
    version = status["version"]
    indicators.clock.set(datetime(2027, 1, 1, 0, 0, 1, tzinfo=VIETNAM))
    after = await eventually(agency, lambda s: s is not None and s["version"] > version)
    assert after is not None
    assert figure(after, "female_share_of_appointments_ytd") == (0, 0)
    assert figure(after, "female_leader_share") == (1, 1)
    assert after["as_of"].startswith("2027-01-01T00:00:01")

    # The drift check agrees with what was published, and finds a record that does not.
    store = IndicatorsStore(indicators.db)
    rules = indicators.settings.rules()
    people = PeopleTopic(kafka_settings)
    assert await check(store, people, PLANS, rules, indicators.clock) == 0
    # D2's last record, altered where the history holds it (its page)
    page = (await store.published_index()).seen["D2"].page
    history = indicators.db["indicator_history"]
    stored = await history.find_one({"page": page})
    assert stored is not None
    records = unpacked(stored["records"])["records"]
    d2 = max((r for r in records if r["unit_id"] == "D2"), key=lambda r: r["version"])
    d2["indicators"]["female_staff_share"]["numerator"] = 7
    tampered = packed({"records": records})
    await history.update_one({"_id": stored["_id"]}, {"$set": {"records": tampered}})
    assert await check(store, people, PLANS, rules, indicators.clock) == 1


async def test_the_consumer_lag_of_its_group_is_exported_for_each_topic(
    indicators: Indicators,
) -> None:
    registry = indicators.metrics.service.registry
    group = indicators.settings.group_id

    def lags() -> dict[str, float | None]:
        return {
            topic: registry.get_sample_value(LAG_METRIC, {"group": group, "topic": topic})
            for topic in (UNIT_CHANGES_TOPIC, PEOPLE_CHANGES_TOPIC, INSPECTION_STATUS_TOPIC)
        }

    seen = await eventually(
        lambda: asyncio.sleep(0, lags()), lambda found: None not in found.values()
    )
    assert all(value is not None and value >= 0 for value in seen.values())
