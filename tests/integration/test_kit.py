"""The `parity` command line against the real Kafka, and a roster imported twice into the
real personnel service: the second import changes nothing."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from services.kit.console import EXIT_FAILED, EXIT_OK, EXIT_REJECTED
from services.kit.roster import template
from shared.contract import PERSONNEL_TOPIC, UNITS_TOPIC, dead_letter_topic
from shared.documents import history_documents
from shared.envelope import encode_structured
from shared.kafka import client_options
from shared.settings import KafkaSettings
from shared.store import Document
from shared.topics import ensure_topics
from tests import events as ev
from tests.integration.conftest import ALL_TOPICS, Personnel
from tests.integration.kafka_tools import eventually, produce

PARITY = str(Path(sys.executable).with_name("parity"))  # the installed console script
TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "roster-template.xlsx"


async def parity(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        PARITY,
        "--no-progress",
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def read_to_end(settings: KafkaSettings, topic: str) -> list[ConsumerRecord[Any, Any]]:
    """Every record of ``topic`` up to the end offsets seen when called."""
    consumer = AIOKafkaConsumer(
        topic, auto_offset_reset="earliest", enable_auto_commit=False, **client_options(settings)
    )
    await consumer.start()  # without a group: every partition is assigned
    try:
        partitions = sorted(consumer.assignment())
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[Any, Any]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            positions = {tp: await consumer.position(tp) for tp in partitions}
            if all(positions[tp] >= end for tp, end in ends.items()):
                return records
            batch = await consumer.getmany(*partitions, timeout_ms=500)
            for partition_records in batch.values():
                records.extend(partition_records)
        raise TimeoutError(f"{topic}: end offsets {ends} not reached")
    finally:
        await consumer.stop()


def of_prefix(
    records: list[ConsumerRecord[Any, Any]], prefix: str
) -> list[ConsumerRecord[Any, Any]]:
    return [r for r in records if r.key is not None and r.key.decode().startswith(prefix)]


@pytest.fixture
async def topics(kafka_settings: KafkaSettings) -> None:
    await ensure_topics(kafka_settings, ALL_TOPICS)


def write_roster(folder: Path, prefix: str) -> None:
    """Two good people, and one bad row of each kind the kit refuses."""
    p = prefix
    (folder / "units.csv").write_text(
        "unit_id,name,parent_id,level\n"
        f"{p}U1,UBND tỉnh,,province\n"
        f"{p}U2,Sở Nội vụ,{p}U1,agency\n"
        f"{p}U3,Phòng Công chức,{p}U2,divisio\n",  # bad level: refused, and its people
        encoding="utf-8",
    )
    (folder / "people.csv").write_text(
        "person_id,gender,ethnic_minority,category,unit_id,birth_year,positions,planning,trainings\n"
        f"{p}P1,female,no,civil_servant,{p}U2,1980,head@{p}U2,,leadership@2024-05-10\n"
        f"{p}P2,unknown,no,civil_servant,{p}U2,1980,,,\n"
        f"{p}P3,female,no,civil_servant,{p}U9,1980,,,\n"
        f"{p}P4,female,no,civil_servant,{p}U2,1980,,,it@2024-02-30\n"
        f"{p}P5,female,no,civil_servant,{p}U2,1980,head-{p}U2,,\n"
        f"{p}P6,female,no,civil_servant,{p}U2,1980,,,\n"
        f"{p}P6,male,no,civil_servant,{p}U2,1980,,,\n"
        f"{p}P7,female,no,civil_servant,{p}U3,1980,,,\n"
        f"{p}P8,male,yes,public_employee,{p}U2,1990,,deputy_head@{p}U2@2021-2026,\n",
        encoding="utf-8",
    )


async def test_a_roster_with_bad_rows_reports_each_and_publishes_only_good_rows(
    topics: None, kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    prefix = f"K{uuid.uuid4().hex[:8]}-"
    write_roster(tmp_path, prefix)
    code, out, err = await parity("import", str(tmp_path), "--as-of", "2026-11-01")
    assert code == EXIT_REJECTED, err
    for row, words in [
        ("units row 4", "level: unknown value 'divisio'"),
        ("people row 3", "gender: unknown value 'unknown'"),
        ("people row 4", f"unit {prefix}U9 is not in the units sheet"),
        ("people row 5", "'2024-02-30' is not a date"),
        ("people row 6", f"'head-{prefix}U2' is not role@unit_id"),
        ("people row 7", f"person_id {prefix}P6 is on rows 7, 8"),
        ("people row 8", f"person_id {prefix}P6 is on rows 7, 8"),
        ("people row 9", f"unit {prefix}U3 is refused (units row 4)"),
    ]:
        reported = [line for line in err.splitlines() if line.startswith(f"rejected {row} ")]
        assert len(reported) == 1, (row, err)
        assert words in reported[0]
    assert "rows rejected: 8" in out

    units = of_prefix(await read_to_end(kafka_settings, UNITS_TOPIC), prefix)
    people = of_prefix(await read_to_end(kafka_settings, PERSONNEL_TOPIC), prefix)
    assert [r.key for r in units] == [f"{prefix}U1".encode(), f"{prefix}U2".encode()]
    assert Counter(r.key.decode() for r in people if r.key) == {f"{prefix}P1": 3, f"{prefix}P8": 2}
    assert all(dict(r.headers)["content-type"].startswith(b"application/cloudevents+json")
               for r in units + people)  # fmt: skip


async def test_publish_produces_accepted_lines_keyed_by_subject_and_reports_the_rest(
    topics: None, kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    prefix = f"K{uuid.uuid4().hex[:8]}-"
    unit = ev.unit_registered(f"{prefix}U1", None, "province")
    person = ev.person_registered(f"{prefix}P1", f"{prefix}U1")
    good = [encode_structured(e)[0] for e in (unit, person)]
    bad_gender = json.loads(good[1])
    bad_gender["data"]["gender"] = "x"
    unknown = {**json.loads(good[1]), "type": "hr.person.promoted"}
    lines = [good[0], b"not json", json.dumps(bad_gender).encode(), b"", good[1],
             json.dumps(unknown).encode()]  # fmt: skip
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"\n".join(lines) + b"\n")

    code, out, err = await parity("publish", str(events))
    assert code == EXIT_REJECTED
    assert "accepted lines: 2" in out
    assert "rejected lines: 3" in out
    assert "rejected line 2: invalid_json" in err
    assert "rejected line 3: invalid_data" in err
    assert "gender" in err
    assert "rejected line 6: unknown_type" in err
    assert "the accepted lines were produced" in err

    units = of_prefix(await read_to_end(kafka_settings, UNITS_TOPIC), prefix)
    people = of_prefix(await read_to_end(kafka_settings, PERSONNEL_TOPIC), prefix)
    assert [(r.key, r.value) for r in units] == [(f"{prefix}U1".encode(), good[0])]
    assert [(r.key, r.value) for r in people] == [(f"{prefix}P1".encode(), good[1])]

    dry = tmp_path / "dry.jsonl"
    dry.write_bytes(good[0].replace(b"evt-", b"dry-") + b"\n")
    assert (await parity("publish", str(dry), "--dry-run"))[0] == EXIT_OK
    units_after = of_prefix(await read_to_end(kafka_settings, UNITS_TOPIC), prefix)
    assert len(units_after) == 1  # a dry run produces nothing


async def test_an_unreachable_kafka_exits_2(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(encode_structured(ev.unit_registered("U-1", None))[0])
    env = {**os.environ, "PARITY_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}  # nothing listens
    code, _, err = await parity("publish", str(events), env=env)
    assert code == EXIT_FAILED
    assert "cannot connect to Kafka at 127.0.0.1:1" in err
    code, _, err = await parity("import", str(TEMPLATE), env=env)
    assert code == EXIT_FAILED
    assert "importing the same roster again completes it" in err


async def people_snapshot(personnel: Personnel) -> dict[str, Document]:
    docs = personnel.db["people"].find({"_id": {"$in": [p[0] for p in template.EXAMPLE_PEOPLE]}})
    return {doc["_id"]: doc async for doc in docs}


async def units_snapshot(personnel: Personnel) -> dict[str, Document]:
    docs = personnel.db["units"].find({"_id": {"$in": [u[0] for u in template.EXAMPLE_UNITS]}})
    return {doc["_id"]: doc async for doc in docs}


def histories_complete(people: dict[str, Document], lengths: dict[str, int]) -> bool:
    return len(people) == len(lengths) and all(
        len(history_documents(people[p]["history"])) == n and people[p]["active"]
        for p, n in lengths.items()
    )


async def test_importing_the_same_roster_twice_changes_nothing(
    personnel: Personnel, producer: AIOKafkaProducer, kafka_settings: KafkaSettings
) -> None:
    code, _, err = await parity("import", str(TEMPLATE), "--as-of", "2026-11-01")
    assert code == EXIT_OK, err
    produced = await read_to_end(kafka_settings, PERSONNEL_TOPIC)
    lengths = Counter(r.key.decode() for r in produced if r.key)
    assert set(lengths) == {p[0] for p in template.EXAMPLE_PEOPLE}
    first = await eventually(
        lambda: people_snapshot(personnel), lambda docs: histories_complete(docs, lengths)
    )
    units_first = await eventually(
        lambda: units_snapshot(personnel), lambda docs: len(docs) == len(template.EXAMPLE_UNITS)
    )
    p1 = first["P-0001"]
    assert [(p["unit_id"], p["role"]) for p in p1["positions"]] == [("U-0002", "head")]
    assert len(p1["trainings"]) == 2
    assert p1["anomalies"] == []
    assert all(doc["anomalies"] == [] and doc["pending_units"] == [] for doc in first.values())

    # again, a few days later: same ids, so the consumers recognise every event as seen
    code, _out, err = await parity("import", str(TEMPLATE), "--as-of", "2026-11-10")
    assert code == EXIT_OK, err
    markers = [ev.trained(person_id, day=900) for person_id in first]  # after the re-import
    await produce(producer, PERSONNEL_TOPIC, markers)
    await produce(producer, UNITS_TOPIC, [ev.unit_registered("U-MARK", None, "province")])
    marked = {p: n + 1 for p, n in lengths.items()}
    after = await eventually(
        lambda: people_snapshot(personnel), lambda docs: histories_complete(docs, marked)
    )
    await eventually(lambda: personnel.unit("U-MARK"), lambda doc: doc is not None)
    for person_id, doc in after.items():
        before = first[person_id]
        assert doc["rev"] == before["rev"] + 1, person_id  # only the marker was written
        assert [h["key"] for h in history_documents(doc["history"])[:-1]] == [
            h["key"] for h in history_documents(before["history"])
        ]
        assert doc["positions"] == before["positions"]
        assert doc["planning_entries"] == before["planning_entries"]
        assert doc["appointments"] == before["appointments"]
    assert await units_snapshot(personnel) == units_first

    for topic in (UNITS_TOPIC, PERSONNEL_TOPIC):
        dead = await read_to_end(kafka_settings, dead_letter_topic(topic))
        assert dead == [], [dict(r.headers).get("parity_error") for r in dead]
