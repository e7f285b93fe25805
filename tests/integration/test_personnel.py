"""The personnel service on the real Kafka and FerretDB: every delivery rule of the contract."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from shared.contract import PERSONNEL_TOPIC, UNITS_TOPIC, dead_letter_topic
from shared.documents import history_documents
from shared.envelope import encode_structured
from shared.internal import PEOPLE_CHANGES_TOPIC
from shared.settings import KafkaSettings
from shared.store import Document
from tests import events as ev
from tests.integration.conftest import Personnel
from tests.integration.kafka_tools import eventually, produce, produce_raw, read_all


def positions(doc: Document | None) -> list[tuple[str, str]]:
    return [(p["unit_id"], p["role"]) for p in (doc or {}).get("positions", [])]


async def person_where(personnel: Personnel, person_id: str, check: Any) -> Document:
    doc = await eventually(
        lambda: personnel.person(person_id), lambda d: d is not None and check(d)
    )
    assert doc is not None
    return doc


async def unit_where(personnel: Personnel, unit_id: str, check: Any) -> Document:
    doc = await eventually(lambda: personnel.unit(unit_id), lambda d: d is not None and check(d))
    assert doc is not None
    return doc


async def seed_tree(producer: AIOKafkaProducer) -> None:
    await produce(
        producer,
        UNITS_TOPIC,
        [
            ev.unit_registered("P", None, "province", day=-100),
            ev.unit_registered("A", "P", "agency", day=-100),
            ev.unit_registered("D1", "A", day=-100),
            ev.unit_registered("D2", "A", day=-100),
        ],
    )


async def test_structured_and_binary_events_are_both_applied(
    personnel: Personnel, producer: AIOKafkaProducer
) -> None:
    await seed_tree(producer)
    await produce(producer, PERSONNEL_TOPIC, [ev.person_registered("X1", "D1")])
    await produce(producer, PERSONNEL_TOPIC, [ev.appointed("X1", "D1")], binary=True)
    doc = await person_where(
        personnel, "X1", lambda d: d["active"] and positions(d) == [("D1", "head")]
    )
    assert doc["gender"] == "female"
    assert [h["type"] for h in history_documents(doc["history"])] == [
        "hr.person.registered",
        "hr.position.appointed",
    ]


async def test_every_poison_kind_goes_to_the_dlq_and_the_next_record_is_processed(
    personnel: Personnel, producer: AIOKafkaProducer, kafka_settings: KafkaSettings
) -> None:
    await seed_tree(producer)
    good = ev.person_registered("X2", "D1")
    valid_value, valid_headers = encode_structured(good)
    bad_gender = json.loads(valid_value)
    bad_gender["data"]["gender"] = "unknown"
    unit_type = json.loads(encode_structured(ev.unit_registered("Z", None))[0])
    no_id = json.loads(valid_value)
    del no_id["id"]
    naive_time = json.loads(valid_value)
    naive_time["time"] = "2024-01-01T08:00:00"
    poison = [
        (b"X2", b"{not json", [("content-type", b"application/cloudevents+json")]),
        (b"X2", json.dumps(no_id).encode(), []),
        (b"X2", json.dumps(naive_time).encode(), []),
        (b"X2", json.dumps(unit_type).encode(), []),
        (b"X2", json.dumps(bad_gender).encode(), []),
        (b"X2", b"x" * (1024 * 1024 + 1), []),
        (b"X2", None, []),
    ]
    await produce_raw(producer, PERSONNEL_TOPIC, [*poison, (b"X2", valid_value, valid_headers)])

    await person_where(personnel, "X2", lambda d: d["active"])
    dead = await read_all(
        kafka_settings, dead_letter_topic(PERSONNEL_TOPIC), until=lambda r: len(r) >= len(poison)
    )
    assert len(dead) == len(poison)
    reasons = [dict(r.headers)["parity_error"].decode() for r in dead]
    assert all(dict(r.headers).get("parity_failed_at") for r in dead)
    origins = [dict(r.headers)["parity_origin"].decode().rsplit("/", 2) for r in dead]
    assert {topic for topic, _, _ in origins} == {PERSONNEL_TOPIC}
    assert len({(p, o) for _, p, o in origins}) == len(poison)  # one record each
    expected_words = ["not valid JSON", "id", "time", "unknown type", "gender", "1 MiB", "no value"]
    for reason, words in zip(reasons, expected_words, strict=True):
        assert words in reason, (reason, words)
    assert [r.value for r in dead] == [value for _, value, _ in poison]  # kept unchanged
    assert dict(dead[0].headers)["content-type"] == b"application/cloudevents+json"


async def test_a_redelivered_event_changes_nothing(
    personnel: Personnel, producer: AIOKafkaProducer
) -> None:
    await seed_tree(producer)
    registration = ev.person_registered("X3", "D1")
    appointment = ev.appointed("X3", "D1")
    await produce(producer, PERSONNEL_TOPIC, [registration, appointment])
    first = await person_where(
        personnel, "X3", lambda d: d["active"] and len(history_documents(d["history"])) == 2
    )
    await produce(producer, PERSONNEL_TOPIC, [registration, appointment], binary=True)
    await produce(producer, PERSONNEL_TOPIC, [ev.trained("X3", day=5)])  # a marker after them
    after = await person_where(personnel, "X3", lambda d: len(history_documents(d["history"])) == 3)
    assert after["rev"] == first["rev"] + 1  # only the marker was written
    assert [h["key"] for h in history_documents(after["history"])[:2]] == [
        h["key"] for h in history_documents(first["history"])
    ]


async def test_a_backdated_event_is_put_in_its_place(
    personnel: Personnel, producer: AIOKafkaProducer
) -> None:
    await seed_tree(producer)
    await produce(
        producer,
        PERSONNEL_TOPIC,
        [ev.person_registered("X4", "D1", day=1), ev.appointed("X4", "D2", "deputy_head", day=20)],
    )
    await person_where(personnel, "X4", lambda d: positions(d) == [("D2", "deputy_head")])
    # a transfer effective on day 10 arrives late; the day-20 appointment still stands after it
    await produce(producer, PERSONNEL_TOPIC, [ev.transferred("X4", "D2", day=10)])
    doc = await person_where(personnel, "X4", lambda d: d["home_unit_id"] == "D2")
    assert positions(doc) == [("D2", "deputy_head")]
    # a backdated appointment in D1 (day 5) is ended by the day-10 transfer out of D1
    await produce(producer, PERSONNEL_TOPIC, [ev.appointed("X4", "D1", "head", day=5)])
    doc = await person_where(personnel, "X4", lambda d: len(d["appointments"]) == 2)
    assert positions(doc) == [("D2", "deputy_head")]


async def test_a_future_dated_event_waits_for_its_time(
    personnel: Personnel, producer: AIOKafkaProducer
) -> None:
    await seed_tree(producer)
    now = personnel.clock.now()
    future = ev.ce("hr.position.appointed", "X5", 0, {"unit_id": "D1", "role": "head"}).model_copy(
        update={"time": now + timedelta(days=10)}
    )
    await produce(producer, PERSONNEL_TOPIC, [ev.person_registered("X5", "D1"), future])
    waiting = await person_where(
        personnel, "X5", lambda d: len(history_documents(d["history"])) == 2
    )
    assert positions(waiting) == []
    assert waiting["next_due"] is not None

    personnel.clock.advance(timedelta(days=10))  # the sweep sees the new time
    due = await person_where(personnel, "X5", lambda d: positions(d) == [("D1", "head")])
    assert due["next_due"] is None


async def test_a_reference_ahead_is_held_until_the_unit_arrives(
    personnel: Personnel, producer: AIOKafkaProducer, kafka_settings: KafkaSettings
) -> None:
    await seed_tree(producer)
    await produce(
        producer, PERSONNEL_TOPIC, [ev.person_registered("X6", "D9"), ev.appointed("X6", "D9")]
    )
    held = await person_where(personnel, "X6", lambda d: len(history_documents(d["history"])) == 2)
    assert held["pending_units"] == ["D9"]
    assert held["active"] is False

    await produce(producer, UNITS_TOPIC, [ev.unit_registered("D9", "A", day=0)])
    applied = await person_where(personnel, "X6", lambda d: d["active"])
    assert applied["pending_units"] == []
    assert positions(applied) == [("D9", "head")]
    changes = await read_all(
        kafka_settings,
        PEOPLE_CHANGES_TOPIC,
        until=lambda rs: any(r.key == b"X6" and json.loads(r.value)["data"]["active"] for r in rs),
    )
    assert changes  # the indicator service hears of it
    dead = await read_all(
        kafka_settings, dead_letter_topic(PERSONNEL_TOPIC), until=lambda r: True, timeout=2
    )
    assert dead == []


async def test_semantic_errors_are_recorded_as_anomalies(
    personnel: Personnel, producer: AIOKafkaProducer
) -> None:
    await seed_tree(producer)
    await produce(
        producer,
        PERSONNEL_TOPIC,
        [
            ev.appointed("NEVER", "D1"),
            ev.person_registered("X7", "D1"),
            ev.position_ended("X7", "D1", day=4),
        ],
    )
    never = await person_where(personnel, "NEVER", lambda d: d["anomalies"])
    assert [a["kind"] for a in never["anomalies"]] == ["person_not_registered"]
    assert never["active"] is False
    x7 = await person_where(personnel, "X7", lambda d: d["anomalies"] and d["active"])
    assert [a["kind"] for a in x7["anomalies"]] == ["position_not_held"]


async def test_restructuring_merge_dissolve_move_and_rename(
    personnel: Personnel, producer: AIOKafkaProducer
) -> None:
    await seed_tree(producer)
    await produce(
        producer,
        UNITS_TOPIC,
        [
            ev.unit_registered("A2", "P", "agency", day=-100),
            ev.unit_registered("S1", "D2", "division", day=-100),  # a child of D2
        ],
    )
    await produce(
        producer,
        PERSONNEL_TOPIC,
        [
            ev.person_registered("M1", "D1"),
            ev.appointed("M1", "D1"),
            ev.planning_added("M1", "D1", day=3),
            ev.person_registered("M2", "D2"),
        ],
    )
    await person_where(personnel, "M1", lambda d: positions(d) == [("D1", "head")])
    await produce(
        producer,
        UNITS_TOPIC,
        [
            ev.unit_merged("D1", "D2", day=30),
            ev.unit_updated("A", 30, parent_id="A2"),  # A and its whole subtree move
            ev.unit_updated("D2", 31, name="Phòng Tổ chức - Hành chính"),
            ev.unit_dissolved("D2", day=40),  # S1 moves up under A; M1 and M2 count nowhere
        ],
    )
    s1 = await unit_where(personnel, "S1", lambda d: d["parent_id"] == "A")
    assert s1["path"] == ["P", "A2", "A"]
    d2 = await unit_where(personnel, "D2", lambda d: d["active"] is False)
    assert d2["name"] == "Phòng Tổ chức - Hành chính"
    assert d2["closure"] == "dissolved"
    d1 = await personnel.unit("D1")
    assert d1 is not None
    assert (d1["closure"], d1["merged_into"], d1["active"]) == ("merged", "D2", False)
    m1 = await person_where(
        personnel, "M1", lambda d: d["home_unit_id"] == "D2" and not d["active"]
    )
    assert positions(m1) == []
    assert m1["planning_entries"] == []
    m2 = await person_where(personnel, "M2", lambda d: not d["active"])
    assert "homed_in_dissolved_unit" in [a["kind"] for a in m2["anomalies"]]
