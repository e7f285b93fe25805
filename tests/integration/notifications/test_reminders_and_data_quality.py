"""The 15 November reminders the plans raise, and the daily data-quality summary that names
nobody."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

from aiokafka import AIOKafkaProducer

from services.notifications.app import build
from shared.clock import VIETNAM, ManualClock
from shared.internal import (
    UNIT_CHANGES_TOPIC,
)
from shared.store import Document
from tests.integration.kafka_tools import eventually, produce
from tests.integration.notifications.wiring import (
    Mailbox,
    Service,
    notification_ids,
    person_changed,
    unit_changed,
)


async def test_on_1_november_the_plans_raise_the_15_november_reminders(
    service: Service, producer: AIOKafkaProducer, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    clock = ManualClock(datetime(2026, 11, 1, 9, 0, tzinfo=VIETNAM))
    root = "U-0001"
    agency, school, division = (f"{service.prefix}-{s}" for s in ("A", "S", "D"))
    await produce(
        producer,
        UNIT_CHANGES_TOPIC,
        [
            unit_changed(root, "province", []),
            unit_changed(agency, "agency", [root]),
            unit_changed(school, "public_service_unit", [root, agency]),
            unit_changed(division, "division", [root, agency]),
        ],
    )
    mine = {root, agency, school, division}
    await service.subscribe(
        id="reports",
        name="Văn phòng",
        email="vp@example.vn",
        unit_id=agency,
        rules=["deadline_approaching"],
    )

    async def reminders(lead: int) -> list[Document]:
        docs = await service.notifications(rule="deadline_approaching")
        return [d for d in docs if d["unit_id"] in mine and d["details"]["lead_days"] == lead]

    async with build(service.settings, clock=clock):
        first = await eventually(lambda: reminders(30), lambda docs: len(docs) >= 4)
        await eventually(lambda: asyncio.sleep(0, box.to("vp@example.vn")), lambda m: len(m) == 2)
        clock.set(datetime(2026, 11, 8, 9, 0, tzinfo=VIETNAM))
        week = await eventually(lambda: reminders(7), lambda docs: len(docs) >= 4)
        await eventually(lambda: asyncio.sleep(0, box.to("vp@example.vn")), lambda m: len(m) == 4)
    assert sorted((d["unit_id"], d["details"]["plan"]) for d in first) == sorted(
        [
            (root, "lang-son-dolisa-2022"),
            (root, "national-2282"),
            (agency, "lang-son-dolisa-2022"),
            (school, "lang-son-dolisa-2022"),
        ]
    )
    assert {(d["details"]["due"], d["details"]["days_left"], d["severity"]) for d in first} == {
        ("2026-11-15", 14, "info")
    }
    assert "còn 14 ngày đến hạn báo cáo kết quả thực hiện hằng năm" in first[0]["title"]
    assert {(d["details"]["days_left"], d["severity"]) for d in week} == {(7, "warning")}
    assert len(await reminders(30)) == 4  # each reminder once, however often the clock is read
    assert await service.notifications(unit_id=division) == []  # divisions report through agencies
    mails = box.to("vp@example.vn")
    assert notification_ids(mails) == sorted(
        d["_id"] for d in first + week if d["unit_id"] in (agency, school)
    )


async def test_data_quality_is_summarised_per_unit_and_day_without_naming_anyone(
    service: Service, producer: AIOKafkaProducer, clock: ManualClock
) -> None:
    division, other = f"{service.prefix}-D", f"{service.prefix}-D2"
    people = [f"{service.prefix}-person-{n}" for n in range(3)]
    first = person_changed(
        people[0], 1, division, [("position_not_held", "e1"), ("position_not_held", "e2")]
    )
    topic = service.settings.people_changes_topic
    mine = {division, other}

    async def anomalies() -> list[Document]:
        return [d async for d in service.db["anomalies"].find({"unit_id": {"$in": list(mine)}})]

    async with build(service.settings, clock=clock):
        await produce(
            producer,
            topic,
            [
                first,
                person_changed(people[1], 1, division, [("registered_twice", "e3")]),
                person_changed(people[2], 1, division, []),
            ],
        )
        await produce(
            producer,
            UNIT_CHANGES_TOPIC,
            [unit_changed(other, "agency", [], ["unit_not_registered"])],
        )
        await eventually(anomalies, lambda docs: len(docs) == 4)
        # the same anomalies again (a redelivery, then a new revision): not counted twice
        again = person_changed(
            people[0],
            2,
            division,
            [
                ("position_not_held", "e1"),
                ("position_not_held", "e2"),
                ("event_after_leaving", "e4"),
            ],
        )
        await produce(producer, topic, [first, again])
        seen = await eventually(anomalies, lambda docs: len(docs) == 5)
        assert {d["day"] for d in seen} == {"2026-11-21"}
        assert await service.notifications(rule="data_quality") == []  # the day is not over
        clock.set(datetime(2026, 11, 22, 0, 5, tzinfo=VIETNAM))
        summaries = await eventually(
            lambda: service.notifications(rule="data_quality"),
            lambda docs: mine <= {d["unit_id"] for d in docs},
        )
    counts = {d["unit_id"]: d["details"]["counts"] for d in summaries if d["unit_id"] in mine}
    assert counts == {
        division: {"event_after_leaving": 1, "position_not_held": 2, "registered_twice": 1},
        other: {"unit_not_registered": 1},
    }
    summary = next(d for d in summaries if d["unit_id"] == division)
    assert summary["details"]["day"] == "2026-11-21"
    assert "4 vấn đề chất lượng dữ liệu ngày 21/11/2026" in summary["title"]
    assert not any(person in json.dumps(summary, default=str) for person in people)
