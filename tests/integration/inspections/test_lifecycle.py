"""An inspection on the real Kafka and FerretDB, from plan to closure; events of one never
planned wait for the plan; wrong orders are recorded as anomalies."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from shared.clock import VIETNAM
from shared.contract import INSPECTIONS_TOPIC
from shared.documents import history_documents
from shared.lag import LAG_METRIC
from tests.integration.inspections.wiring import (
    Inspections,
    days,
    latest,
    open_ids,
    revision_of,
)
from tests.integration.kafka_tools import eventually, produce


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
    assert revision_of(latest(statuses)) > revision_of(d2)
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
    assert revision_of(after) > revision_of(d3)


async def test_the_consumer_lag_of_its_group_is_exported(inspections: Inspections) -> None:
    registry = inspections.metrics.service.registry
    labels = {
        "group": f"test-inspections-{inspections.prefix}.{INSPECTIONS_TOPIC}",
        "topic": INSPECTIONS_TOPIC,
    }
    lag = await eventually(
        lambda: asyncio.sleep(0, registry.get_sample_value(LAG_METRIC, labels)),
        lambda value: value is not None,
    )
    assert lag is not None
    assert lag >= 0
