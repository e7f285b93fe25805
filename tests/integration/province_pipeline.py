"""A seeded province through the real personnel, inspections and indicators services.

:func:`running_pipeline` starts the three services on the contract's topics (recreate them
first: the ``fresh_topics`` fixture) with one manual clock; :func:`produce_province`
publishes a generated province; :meth:`Pipeline.settle` waits until every service has
consumed everything, the records they published to each other included.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from services.indicators.app import IndicatorsSettings
from services.indicators.app import build as build_indicators
from services.inspections.app import InspectionsSettings
from services.inspections.app import build as build_inspections
from services.kit.replay import pipeline_groups
from services.personnel.app import build as build_personnel
from shared.clock import ManualClock
from shared.plans import load_plans
from shared.settings import KafkaSettings
from shared.store import Document
from tests.generator import Province
from tests.integration.conftest import personnel_settings
from tests.integration.kafka_tools import wait_consumed

PLANS = Path(__file__).resolve().parents[2] / "deploy" / "plans"


@dataclass
class Pipeline:
    kafka: KafkaSettings
    personnel_group: str
    inspections_group: str
    indicators_group: str
    database: str

    async def settle(self) -> None:
        await wait_consumed(
            self.kafka,
            pipeline_groups(
                personnel=self.personnel_group,
                inspections=self.inspections_group,
                indicators=self.indicators_group,
            ),
            timeout=240,
        )


@asynccontextmanager
async def running_pipeline(
    kafka_settings: KafkaSettings,
    mongodb_url: str,
    database_name: str,
    clock: ManualClock,
    mongo: AsyncMongoClient[Document],
) -> AsyncIterator[Pipeline]:
    """Personnel (in ``database_name``), inspections and indicators (in databases named after
    it, dropped on the way out) with the shipped plans, all on ``clock``."""
    personnel = personnel_settings(kafka_settings, mongodb_url, database_name)
    personnel.sweep_interval_seconds = 1.0
    inspections = InspectionsSettings(
        mongodb_url=mongodb_url,
        mongodb_database=f"{database_name}_inspections",
        group_id=f"test-inspections-{uuid.uuid4().hex[:8]}",
        kafka=kafka_settings,
    )
    indicators = IndicatorsSettings(
        mongodb_url=mongodb_url,
        mongodb_database=f"{database_name}_indicators",
        group_id=f"test-indicators-{uuid.uuid4().hex[:8]}",
        kafka=kafka_settings,
    )
    try:
        async with (
            build_personnel(personnel, clock=clock),
            build_inspections(inspections, clock=clock),
            build_indicators(indicators, clock=clock, plans=load_plans(PLANS)),
        ):
            yield Pipeline(
                kafka_settings,
                personnel.group_id,
                inspections.group_id,
                indicators.group_id,
                database_name,
            )
    finally:
        for service in (inspections, indicators):
            await mongo.drop_database(service.mongodb_database)


async def produce_province(producer: AIOKafkaProducer, province: Province) -> None:
    pending = [
        await producer.send(r.topic, value=r.value, key=r.key, headers=r.headers)
        for r in province.records
    ]
    await asyncio.gather(*pending)
