"""The inspections service under test.

Each test runs its own service (own consumer group, own database) on the shared topics and
names its units and inspections with a fresh prefix, so tests of other services publishing
on the same topics at the same time do not disturb it, and it does not recreate topics.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from services.inspections.app import InspectionsSettings, build
from services.inspections.metrics import make_inspection_metrics
from shared.clock import ManualClock
from shared.contract import INSPECTIONS_TOPIC
from shared.internal import (
    UNIT_CHANGES_TOPIC,
)
from shared.kafka import topic_group
from shared.settings import KafkaSettings
from shared.store import Document
from shared.topics import ensure_topics
from tests.integration.conftest import ALL_TOPICS
from tests.integration.inspections.wiring import (
    NOW,
    Inspections,
    start_at_the_end,
    unit_changed,
)
from tests.integration.kafka_tools import produce


@pytest.fixture
async def inspections(
    kafka_settings: KafkaSettings,
    mongodb_url: str,
    database_name: str,
    mongo: AsyncMongoClient[Document],
    producer: AIOKafkaProducer,
    clock: ManualClock,
) -> AsyncIterator[Inspections]:
    """The inspections service on the real Kafka and FerretDB, with a manual clock, and a
    small tree P > A > D1, D2, D3 published as the personnel service would."""
    prefix = f"T{uuid.uuid4().hex[:8]}"
    clock.set(NOW)
    await ensure_topics(kafka_settings, ALL_TOPICS)
    settings = InspectionsSettings(
        mongodb_url=mongodb_url,
        mongodb_database=database_name,
        group_id=f"test-inspections-{prefix}",
        kafka=kafka_settings,
        sweep_interval_seconds=0.2,
        consumer_lag_interval_seconds=0.5,  # the gauges are read on that interval
        batch_size=200,
    )
    await start_at_the_end(kafka_settings, topic_group(settings.group_id, INSPECTIONS_TOPIC))
    tree = [("P", [], "province"), ("A", ["P"], "agency")]
    tree += [(d, ["P", "A"], "division") for d in ("D1", "D2", "D3")]
    await produce(
        producer,
        UNIT_CHANGES_TOPIC,
        [
            unit_changed(f"{prefix}-{u}", [f"{prefix}-{p}" for p in path], lvl)
            for u, path, lvl in tree
        ],
    )
    metrics = make_inspection_metrics()
    async with build(settings, clock=clock, metrics=metrics):
        yield Inspections(mongo[database_name], clock, metrics, kafka_settings, prefix)
