"""What the inspections tests share: the service under test with its database, clock and
metrics, the builders of their events, and reading the unit statuses it publishes."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo.asynchronous.database import AsyncDatabase

from services.inspections.metrics import InspectionMetrics
from shared.clock import VIETNAM, ManualClock
from shared.contract import INSPECTIONS_TOPIC
from shared.envelope import CloudEvent, new_event
from shared.internal import (
    INSPECTION_STATUS_TOPIC,
    PERSONNEL_SOURCE,
    UNIT_CHANGED,
)
from shared.kafka import client_options
from shared.settings import KafkaSettings
from shared.store import Document
from tests.facts import unit_at
from tests.integration.kafka_tools import eventually, read_all

_ids = itertools.count()
NOW = datetime(2026, 11, 21, 9, 30, tzinfo=VIETNAM)


@dataclass
class Inspections:
    db: AsyncDatabase[Document]
    clock: ManualClock
    metrics: InspectionMetrics
    kafka: KafkaSettings
    prefix: str

    def id(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    async def inspection_where(self, name: str, check: Any) -> Document:
        doc = await eventually(
            lambda: self.db["inspections"].find_one({"_id": self.id(name)}),
            lambda d: d is not None and check(d),
        )
        assert doc is not None
        return doc

    async def recommendations(self, name: str) -> dict[str, Document]:
        cursor = self.db["recommendations"].find({"inspection_id": self.id(name)})
        return {d["recommendation_id"]: d async for d in cursor}

    async def own(self, unit: str) -> Document | None:
        return await self.db["unit_inspections"].find_one({"_id": self.id(unit)})

    async def rollup_where(self, unit: str, check: Any) -> Document:
        doc = await eventually(
            lambda: self.db["unit_inspection_status"].find_one({"_id": self.id(unit)}),
            lambda d: d is not None and check(d),
        )
        assert doc is not None
        return doc

    async def published(self, unit: str, check: Any) -> list[dict[str, Any]]:
        """Every status published for the unit, once the latest one passes ``check``."""
        key = self.id(unit).encode()

        def mine(records: list[Any]) -> list[dict[str, Any]]:
            found = [json.loads(r.value) for r in records if r.key == key]
            return [f["data"] for f in found]

        records = await read_all(
            self.kafka,
            INSPECTION_STATUS_TOPIC,
            until=lambda rs: bool(mine(rs)) and check(max(mine(rs), key=revision_of)),
        )
        return mine(records)

    def event(self, type_: str, name: str, at: datetime, data: dict[str, Any]) -> CloudEvent:
        return new_event(
            source="inspections/test",
            type_=type_,
            subject=self.id(name),
            time=at,
            data=data,
            event_id=f"{self.prefix}-{next(_ids)}",
        )

    def planned(
        self, name: str, at: datetime, units: tuple[str, ...] = ("D1", "D2"), start: str = ""
    ) -> CloudEvent:
        data = {
            "inspection_id": self.id(name),
            "title": "Kiểm tra việc thực hiện quy hoạch cán bộ nữ",
            "kind": "examination",
            "scope": ["planning", "training"],
            "unit_ids": [self.id(u) for u in units],
            "lead_unit_id": self.id("A"),
            "inter_sectoral": False,
            "planned_start": start or "2026-09-01",
            "planned_end": "2026-09-30",
        }
        return self.event("inspection.planned", name, at, data)

    def finding(self, name: str, at: datetime, finding_id: str, unit: str) -> CloudEvent:
        data = {
            "finding_id": finding_id,
            "unit_id": self.id(unit),
            "severity": "major",
            "topic": "planning",
            "summary": "Tỷ lệ nữ trong quy hoạch thấp",
        }
        return self.event("inspection.finding_recorded", name, at, data)

    def recommendation(
        self, name: str, at: datetime, rec: str, unit: str, due: str = "2026-12-31"
    ) -> CloudEvent:
        data = {
            "recommendation_id": rec,
            "unit_id": self.id(unit),
            "summary": "Bổ sung",
            "due": due,
        }
        return self.event("inspection.recommendation_issued", name, at, data)

    def resolved(
        self, name: str, at: datetime, rec: str, resolution: str = "Đã xong"
    ) -> CloudEvent:
        data = {"recommendation_id": rec, "resolution": resolution}
        return self.event("inspection.recommendation_resolved", name, at, data)


def revision_of(status: dict[str, Any]) -> int:
    return int(status["revision"])


def latest(statuses: list[dict[str, Any]]) -> dict[str, Any]:
    return max(statuses, key=revision_of)


def open_ids(status: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(r["recommendation_id"], r["overdue"]) for r in status["open_recommendations"]]


def days(n: float) -> datetime:
    return NOW + timedelta(days=n)


def unit_changed(unit_id: str, path: list[str], level: str) -> CloudEvent:
    unit = unit_at(unit_id, path, level, valid_from="2020-01-01T00:00:00+00:00")
    return new_event(
        source=PERSONNEL_SOURCE,
        type_=UNIT_CHANGED,
        subject=unit_id,
        time=NOW,
        data=unit.model_dump(mode="json"),
        event_id=f"{UNIT_CHANGED}:{unit_id}:1",
    )


async def start_at_the_end(settings: KafkaSettings, group_id: str) -> None:
    """Commit the group's offsets at the topic's end: the service reads only this test's
    records, whatever other tests left on the shared topic."""
    options = client_options(settings)
    admin = AIOKafkaAdminClient(**options)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([INSPECTIONS_TOPIC])
    finally:
        await admin.close()
    partitions = [
        TopicPartition(INSPECTIONS_TOPIC, p["partition"]) for p in described["partitions"]
    ]
    consumer = AIOKafkaConsumer(group_id=group_id, enable_auto_commit=False, **options)
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit(dict(ends))
    finally:
        await consumer.stop()
