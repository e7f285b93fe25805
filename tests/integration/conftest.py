"""Fixtures for tests against the real Kafka and FerretDB (``deploy/infra.sh up`` starts them;
``make test`` does it for you)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from faststream.asgi import AsgiFastStream
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from services.personnel.app import PersonnelSettings, build
from services.personnel.changes import ChangeSink
from shared.clock import ManualClock
from shared.dead_letters import DeadLetters
from shared.kafka import client_options, make_producer
from shared.metrics import make_metrics
from shared.settings import KafkaSettings
from shared.store import Document, make_mongo_client
from shared.topics import all_topics
from tests.integration.kafka_tools import recreate_topics

PARTITIONS = 3
ALL_TOPICS = all_topics(PARTITIONS)
NOW = datetime(2026, 11, 21, 2, 30, tzinfo=UTC)


def _reachable(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


@pytest.fixture(scope="session", autouse=True)
def infrastructure_running() -> None:
    for name, port in (("Kafka", 9092), ("FerretDB", 27017)):
        if not _reachable("127.0.0.1", port):
            pytest.fail(f"{name} is not running on 127.0.0.1:{port}: run `make infra-up`")


@pytest.fixture(scope="session")
def kafka_settings() -> KafkaSettings:
    return KafkaSettings(partitions=PARTITIONS)


@pytest.fixture(scope="session")
def mongodb_url() -> str:
    return os.environ.get("PARITY_MONGODB_URL", "mongodb://127.0.0.1:27017/")


@pytest.fixture
async def mongo(mongodb_url: str) -> AsyncIterator[AsyncMongoClient[Document]]:
    client = make_mongo_client(mongodb_url, app_name="tests")
    yield client
    await client.close()


@pytest.fixture
async def database_name(mongo: AsyncMongoClient[Document]) -> AsyncIterator[str]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield name
    await mongo.drop_database(name)


@pytest.fixture
async def producer(kafka_settings: KafkaSettings) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(max_request_size=4 * 1024 * 1024, **client_options(kafka_settings))
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
async def fresh_topics(kafka_settings: KafkaSettings) -> None:
    await recreate_topics(kafka_settings, ALL_TOPICS)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def dead_letters(
    kafka_settings: KafkaSettings, clock: ManualClock
) -> AsyncIterator[DeadLetters]:
    """Dead letters sent to the real Kafka, as a service sends them."""
    producer = make_producer(kafka_settings, service="test")
    await producer.start()
    try:
        yield DeadLetters(sender=producer, clock=clock, counter=make_metrics("test").dead_letters)
    finally:
        await producer.stop()


@dataclass
class Personnel:
    db: AsyncDatabase[Document]
    settings: PersonnelSettings
    clock: ManualClock
    app: AsgiFastStream  # its /health and /metrics, through its ASGI interface

    async def person(self, person_id: str) -> Document | None:
        return await self.db["people"].find_one({"_id": person_id})

    async def unit(self, unit_id: str) -> Document | None:
        return await self.db["units"].find_one({"_id": unit_id})


def personnel_settings(
    kafka_settings: KafkaSettings, mongodb_url: str, database_name: str
) -> PersonnelSettings:
    return PersonnelSettings(
        mongodb_url=mongodb_url,
        mongodb_database=database_name,
        group_id=f"test-personnel-{uuid.uuid4().hex[:8]}",
        kafka=kafka_settings,
        sweep_interval_seconds=0.2,
        batch_size=200,
    )


@pytest.fixture
def change_sink() -> ChangeSink | None:
    """Where the personnel fixture publishes changes: None for Kafka."""
    return None


@pytest.fixture
def personnel_overrides() -> dict[str, Any]:
    """Settings a module gives the personnel fixture beyond ``personnel_settings``."""
    return {}


@pytest.fixture
async def personnel(
    fresh_topics: None,
    kafka_settings: KafkaSettings,
    mongodb_url: str,
    database_name: str,
    mongo: AsyncMongoClient[Document],
    clock: ManualClock,
    change_sink: ChangeSink | None,
    personnel_overrides: dict[str, Any],
) -> AsyncIterator[Personnel]:
    """The personnel service, running against the real Kafka and FerretDB with a manual clock
    (and a module's own ``change_sink`` and ``personnel_overrides``, if it has them)."""
    settings = personnel_settings(kafka_settings, mongodb_url, database_name).model_copy(
        update=personnel_overrides
    )
    async with build(settings, clock=clock, changes=change_sink) as app:
        yield Personnel(db=mongo[database_name], settings=settings, clock=clock, app=app)
