"""Poison goes to the dead-letter topic and the next record is processed; a redelivery is
applied once; backdated and future-dated events."""

from __future__ import annotations

import json
from typing import Any

from aiokafka import AIOKafkaProducer

from shared.contract import INSPECTIONS_TOPIC, dead_letter_topic
from shared.documents import history_documents
from shared.envelope import encode_structured
from shared.settings import KafkaSettings
from tests.integration.inspections.wiring import (
    Inspections,
    days,
    latest,
    open_ids,
    revision_of,
)
from tests.integration.kafka_tools import eventually, produce, produce_raw, read_all


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
    d1 = latest(await s.published("D1", lambda st: revision_of(st) == own["rev"]))
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
