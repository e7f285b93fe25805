"""The inspections service on the real Kafka and FerretDB: a whole inspection, every wrong
order, poison, redelivery, backdated and future-dated events.

Each test runs its own service (own consumer group, own database) on the shared topics and
names its units and inspections with a fresh prefix, so tests of other services publishing
on the same topics at the same time do not disturb it, and it does not recreate topics.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from services.inspections.app import InspectionsSettings, build
from services.inspections.metrics import InspectionMetrics, make_inspection_metrics
from shared.clock import VIETNAM, ManualClock
from shared.contract import INSPECTIONS_TOPIC, dead_letter_topic
from shared.documents import history_documents
from shared.envelope import CloudEvent, encode_structured, new_event
from shared.internal import (
    INSPECTION_STATUS_TOPIC,
    PERSONNEL_SOURCE,
    UNIT_CHANGED,
    UNIT_CHANGES_TOPIC,
    UnitChanged,
)
from shared.kafka import client_options, ensure_topics
from shared.settings import KafkaSettings
from shared.store import Document
from tests.integration.conftest import ALL_TOPICS
from tests.integration.kafka_tools import eventually, produce, produce_raw, read_all

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
            until=lambda rs: bool(mine(rs)) and check(max(mine(rs), key=_revision)),
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


def _revision(status: dict[str, Any]) -> int:
    return int(status["revision"])


def latest(statuses: list[dict[str, Any]]) -> dict[str, Any]:
    return max(statuses, key=_revision)


def open_ids(status: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(r["recommendation_id"], r["overdue"]) for r in status["open_recommendations"]]


def days(n: float) -> datetime:
    return NOW + timedelta(days=n)


def unit_changed(unit_id: str, path: list[str], level: str) -> CloudEvent:
    unit = UnitChanged(
        unit_id=unit_id,
        revision=1,
        registered=True,
        name=f"Đơn vị {unit_id}",
        level=level,
        parent_id=path[-1] if path else None,
        path=path,
        active=True,
        valid_from="2020-01-01T00:00:00+00:00",
        valid_to=None,
        closure=None,
        merged_into=None,
        pending_parent=None,
        anomalies=[],
    )
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
    await start_at_the_end(kafka_settings, f"{settings.group_id}.{INSPECTIONS_TOPIC}")
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


async def test_a_whole_inspection_from_plan_to_closure(
    inspections: Inspections, producer: AIOKafkaProducer
) -> None:
    s = inspections
    await produce(
        producer,
        INSPECTIONS_TOPIC,
        [
            s.planned("I1", days(-90)),
            s.event("inspection.started", "I1", days(-80), {}),
            s.finding("I1", days(-75), "F1", "D1"),
            s.finding("I1", days(-74), "F2", "D2"),
            s.recommendation("I1", days(-70), "R1", "D1", due="2026-12-31"),
            s.recommendation("I1", days(-70) + timedelta(minutes=1), "R2", "D2", due="2026-11-25"),
            s.resolved("I1", days(-10), "R1", "Đã bổ sung quy hoạch"),
            s.event("inspection.closed", "I1", days(-5), {"conclusion": "Cơ bản đạt yêu cầu"}),
        ],
    )
    doc = await s.inspection_where("I1", lambda d: d["status"] == "closed")
    assert doc["started_at"] is not None
    assert doc["conclusion"] == "Cơ bản đạt yêu cầu"
    assert [f["finding_id"] for f in doc["findings"]] == ["F1", "F2"]
    assert doc["anomalies"] == []
    recs = await eventually(lambda: s.recommendations("I1"), lambda r: len(r) == 2)
    assert (recs["R1"]["status"], recs["R1"]["resolution"]) == ("resolved", "Đã bổ sung quy hoạch")
    assert recs["R2"]["status"] == "open"

    d2 = latest(await s.published("D2", lambda st: open_ids(st) == [("R2", False)]))
    assert d2["inspected_years"] == [2026]
    d1 = latest(await s.published("D1", lambda st: st["inspected_years"] == [2026]))
    assert open_ids(d1) == []
    area = await s.rollup_where("A", lambda d: d["subtree"]["open_recommendations"] == 1)
    assert (area["divisions"], area["divisions_inspected"]) == (3, 2)
    assert area["subtree"]["findings_by_severity"] == {"major": 2}
    assert area["subtree"]["inspections_this_year"] == 1

    s.clock.set(datetime(2026, 11, 26, 0, 0, 1, tzinfo=VIETNAM))  # R2 was due on the 25th
    statuses = await s.published("D2", lambda st: open_ids(st) == [("R2", True)])
    assert _revision(latest(statuses)) > _revision(d2)
    recs = await eventually(
        lambda: s.recommendations("I1"), lambda r: r["R2"]["status"] == "overdue"
    )
    await s.rollup_where("A", lambda d: d["subtree"]["overdue_recommendations"] == 1)
    registry = s.metrics.service.registry
    await eventually(
        lambda: _sample(registry, "parity_inspections_overdue_recommendations"), lambda v: v >= 1
    )
    closed = registry.get_sample_value("parity_inspections_inspections", {"state": "closed"})
    assert closed == 1


async def _sample(registry: Any, name: str) -> float:
    return float(registry.get_sample_value(name) or 0)


async def test_events_of_an_inspection_never_planned_wait_for_the_plan(
    inspections: Inspections, producer: AIOKafkaProducer
) -> None:
    s = inspections
    await produce(
        producer,
        INSPECTIONS_TOPIC,
        [s.finding("I2", days(-20), "F1", "D1"), s.recommendation("I2", days(-19), "R1", "D1")],
    )
    pending = await s.inspection_where("I2", lambda d: len(history_documents(d["history"])) == 2)
    assert pending["status"] == "pending"
    assert [a["kind"] for a in pending["anomalies"]] == ["inspection_not_planned"] * 2
    assert await s.recommendations("I2") == {}
    assert await s.own("D1") is None  # counts nowhere

    await produce(producer, INSPECTIONS_TOPIC, [s.planned("I2", days(-30))])  # late, earlier
    planned = await s.inspection_where("I2", lambda d: d["status"] == "planned")
    assert planned["anomalies"] == []
    d1 = latest(await s.published("D1", lambda st: open_ids(st) == [("R1", False)]))
    assert d1["inspected_years"] == [2026]


async def test_wrong_orders_are_recorded_as_anomalies(
    inspections: Inspections, producer: AIOKafkaProducer
) -> None:
    s = inspections
    await produce(
        producer,
        INSPECTIONS_TOPIC,
        [
            s.planned("I3", days(-60)),
            s.recommendation("I3", days(-50), "R1", "D1"),
            s.recommendation("I3", days(-50), "R9", "D3"),  # D3 is not among the inspected
        ],
    )
    d3 = latest(await s.published("D3", lambda st: open_ids(st) == [("R9", False)]))
    assert d3["inspected_years"] == []  # named by a recommendation, not inspected
    await produce(
        producer,
        INSPECTIONS_TOPIC,
        [
            s.resolved("I3", days(-40), "R1", "lần đầu"),
            s.resolved("I3", days(-30), "R1", "lần hai"),  # resolved twice
            s.event("inspection.closed", "I3", days(-20), {"conclusion": "Kết luận"}),
            s.finding("I3", days(-10), "F5", "D2"),  # after closure: not applied
            s.resolved("I3", days(-5), "R9"),  # follow-up after closure: applied
        ],
    )
    doc = await s.inspection_where("I3", lambda d: len(history_documents(d["history"])) == 8)
    assert doc["status"] == "closed"
    assert doc["findings"] == []
    assert sorted(a["kind"] for a in doc["anomalies"]) == [
        "event_after_closure",
        "resolved_twice",
        "unit_not_inspected",
    ]
    recs = await eventually(
        lambda: s.recommendations("I3"), lambda r: r.get("R9", {}).get("status") == "resolved"
    )
    assert recs["R1"]["resolution"] == "lần đầu"  # the first resolution stands
    after = latest(await s.published("D3", lambda st: open_ids(st) == []))
    assert _revision(after) > _revision(d3)


async def test_poison_goes_to_the_dlq_and_the_next_record_is_processed(
    inspections: Inspections, producer: AIOKafkaProducer, kafka_settings: KafkaSettings
) -> None:
    s = inspections
    key = s.id("I4").encode()
    good = s.planned("I4", days(-10))
    value, headers = encode_structured(good)
    bad_severity = json.loads(encode_structured(s.finding("I4", days(-9), "F1", "D1"))[0])
    bad_severity["data"]["severity"] = "nghiêm trọng"
    backwards = json.loads(value)
    backwards["data"]["planned_end"] = "2026-01-01"
    unknown = json.loads(value)
    unknown["type"] = "inspection.postponed"
    poison = [
        (key, b"{not json", [("content-type", b"application/cloudevents+json")]),
        (key, json.dumps(bad_severity).encode(), []),
        (key, json.dumps(backwards).encode(), []),
        (key, json.dumps(unknown).encode(), []),
    ]
    await produce_raw(producer, INSPECTIONS_TOPIC, [*poison, (key, value, headers)])
    await s.inspection_where("I4", lambda d: d["status"] == "planned")

    def mine(records: list[Any]) -> list[Any]:
        return [r for r in records if r.key == key]

    dead = mine(
        await read_all(
            kafka_settings,
            dead_letter_topic(INSPECTIONS_TOPIC),
            until=lambda rs: len(mine(rs)) >= len(poison),
        )
    )
    assert [r.value for r in dead] == [v for _, v, _ in poison]  # unchanged, in order
    reasons = [dict(r.headers)["parity_error"].decode() for r in dead]
    for reason, words in zip(
        reasons, ["not valid JSON", "severity", "planned_end", "unknown type"], strict=True
    ):
        assert words in reason, (reason, words)
    assert all(dict(r.headers).get("parity_failed_at") for r in dead)


async def test_a_redelivered_event_is_applied_once(
    inspections: Inspections, producer: AIOKafkaProducer
) -> None:
    s = inspections
    events = [s.planned("I5", days(-10)), s.recommendation("I5", days(-9), "R1", "D1")]
    await produce(producer, INSPECTIONS_TOPIC, events)
    first = await s.inspection_where("I5", lambda d: len(history_documents(d["history"])) == 2)
    await produce(producer, INSPECTIONS_TOPIC, events, binary=True)  # the same ids again
    await produce(producer, INSPECTIONS_TOPIC, [s.event("inspection.started", "I5", days(-8), {})])
    after = await s.inspection_where("I5", lambda d: len(history_documents(d["history"])) == 3)
    assert after["rev"] == first["rev"] + 1  # only the new event was written
    assert after["status"] == "started"
    own = await eventually(lambda: s.own("D1"), lambda d: d is not None and d["last_inspected_on"])
    assert own is not None
    assert len(own["open_recommendations"]) == 1  # R1 once, though delivered twice
    d1 = latest(await s.published("D1", lambda st: _revision(st) == own["rev"]))
    assert open_ids(d1) == [("R1", False)]


async def test_backdated_and_future_dated_events(
    inspections: Inspections, producer: AIOKafkaProducer
) -> None:
    s = inspections
    closing = s.event("inspection.closed", "I6", days(2), {"conclusion": "Kết luận"})
    await produce(
        producer,
        INSPECTIONS_TOPIC,
        [
            s.planned("I6", days(-60), units=("D2",)),
            s.recommendation("I6", days(-30), "R1", "D2"),
            closing,  # effective in two days: waits
        ],
    )
    waiting = await s.inspection_where("I6", lambda d: len(history_documents(d["history"])) == 3)
    assert waiting["status"] == "planned"
    assert waiting["next_event_due"] is not None
    s.clock.set(days(2))
    await s.inspection_where("I6", lambda d: d["status"] == "closed" and not d["next_event_due"])

    await produce(
        producer,
        INSPECTIONS_TOPIC,
        [
            s.planned("I7", days(-60), units=("D3",)),
            s.recommendation("I7", days(-30), "R1", "D3"),
        ],
    )
    await s.published("D3", lambda st: open_ids(st) == [("R1", False)])
    # a cancellation effective before the recommendation arrives late: the recommendation
    # was issued after cancellation, and the unit is no longer covered
    await produce(
        producer,
        INSPECTIONS_TOPIC,
        [s.event("inspection.cancelled", "I7", days(-40), {"reason": "Hoãn"})],
    )
    cancelled = await s.inspection_where("I7", lambda d: d["status"] == "cancelled")
    assert cancelled["recommendations"] == []
    assert [a["kind"] for a in cancelled["anomalies"]] == ["event_after_closure"]
    d3 = latest(await s.published("D3", lambda st: open_ids(st) == []))
    assert d3["inspected_years"] == []
    assert await s.recommendations("I7") == {}
