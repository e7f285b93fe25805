"""The indicator and inspection rules on the real Kafka and FerretDB: each fires once, on
every channel, and poison goes to the dead-letter topic."""

from __future__ import annotations

from datetime import timedelta

from aiokafka import AIOKafkaProducer

from services.notifications.app import build
from shared.clock import ManualClock
from shared.contract import dead_letter_topic
from shared.envelope import CloudEvent
from shared.internal import (
    UNIT_CHANGES_TOPIC,
    UNIT_INSPECTION_STATUS,
    OpenRecommendation,
    UnitInspectionStatus,
)
from shared.outbound import NOTIFICATION_EVENT_TYPE
from tests.integration.kafka_tools import eventually, produce, produce_raw, read_to_end
from tests.integration.notifications.wiring import (
    SECRET,
    Mailbox,
    Receivers,
    Service,
    division_status,
    internal_event,
    notification_ids,
    publish_statuses,
    published,
    unit_changed,
)


async def test_each_indicator_rule_fires_once_and_a_flapping_indicator_stays_quiet(
    service: Service,
    producer: AIOKafkaProducer,
    clock: ManualClock,
    mailbox: tuple[Mailbox, int],
    receivers: Receivers,
) -> None:
    box, _ = mailbox
    agency, division = f"{service.prefix}-A", f"{service.prefix}-D"
    await produce(
        producer,
        UNIT_CHANGES_TOPIC,
        [
            unit_changed(agency, "agency", []),
            unit_changed(division, "division", [agency]),
        ],
    )
    receiver, url = receivers.add(f"{service.prefix}-hook")
    await service.subscribe(
        id="so",
        name="Sở Nội vụ",
        email="so@example.vn",
        webhook_url=url,
        secret=SECRET,
        unit_id=agency,
    )
    await service.subscribe(id="other", name="Khác", email="other@example.vn", unit_id="ELSEWHERE")
    # No calendar check in this test: the breach held back at version 5 would come out as soon
    # as the clock is past the quiet period and before version 7 is read (the unit was below
    # for the whole quiet period); test_quiet_period.py covers that, here the rules only.
    settings = service.settings.model_copy(update={"check_interval_seconds": 3600.0})
    async with build(settings, clock=clock):
        v2 = division_status(division, 2, (0, 1), (0, 1))
        await publish_statuses(
            producer,
            service,
            division_status(division, 1, (1, 1), (1, 1)),  # first seen, on target: nothing
            v2,  # breach, last woman gone, floor breached
            division_status(division, 3, (0, 1), (0, 1)),  # still below: nothing
            v2,  # redelivered: nothing
            division_status(division, 4, (1, 1), (1, 1)),  # recovered
            division_status(division, 5, (0, 1), (0, 1)),  # flapping: quiet
            division_status(division, 6, (0, 1), (0, 1), pool=(3, 4)),  # another indicator
        )
        pool = "female_share_in_division_planning_pool"
        await eventually(
            lambda: service.notifications(unit_id=division),
            lambda docs: any(d["details"]["indicator"] == pool for d in docs),
        )
        clock.advance(timedelta(hours=2))  # past the quiet period
        await publish_statuses(
            producer, service, division_status(division, 7, (1, 1), (1, 1), pool=(3, 4))
        )
        raised = await eventually(
            lambda: service.notifications(unit_id=division), lambda docs: len(docs) >= 6
        )
        await eventually(
            lambda: service.deliveries(status="delivered"), lambda docs: len(docs) == 18
        )
    by_rule = sorted(
        (d["rule"], d["details"]["indicator"], d["details"]["version"]) for d in raised
    )
    key = "female_key_leader_division_share"
    assert by_rule == [
        ("last_female_key_leader_left", key, 2),
        ("planning_floor_breached", "units_meeting_planning_floor_share", 2),
        ("target_breached", key, 2),
        ("target_breached", pool, 6),
        ("target_recovered", key, 4),
        ("target_recovered", key, 7),
    ]
    ids = sorted(d["_id"] for d in raised)
    breach = next(
        d for d in raised if d["rule"] == "target_breached" and d["details"]["indicator"] == key
    )
    assert (
        breach["title"]
        == f"Phòng {division}: Tỷ lệ đơn vị cấp phòng có nữ lãnh đạo chủ chốt dưới mục tiêu"
    )
    assert "0,0% (0/1)" in breach["body"]
    assert "95,0% vào năm 2030" in breach["body"]
    assert breach["severity"] == "warning"
    assert breach["raised_at"].endswith("+07:00")
    # delivered once on every channel: Kafka, e-mail, webhook (signed; the receiver checked)
    events = published(await read_to_end(service.kafka, service.settings.notifications_topic))
    assert sorted(e["id"] for e in events) == ids
    assert {(e["type"], e["source"], e["subject"]) for e in events} == {
        (NOTIFICATION_EVENT_TYPE, "parity/notifications", division)
    }
    assert sorted(receiver.ids()) == ids
    assert receiver.rejected == 0
    assert notification_ids(box.to("so@example.vn")) == ids
    assert sorted(m["Subject"] for m in box.to("so@example.vn")) == sorted(
        d["title"] for d in raised
    )
    assert box.to("other@example.vn") == []  # another subtree


async def test_an_overdue_recommendation_fires_once_and_poison_goes_to_the_dlq(
    service: Service, producer: AIOKafkaProducer, clock: ManualClock
) -> None:
    division = f"{service.prefix}-D"
    topic = service.settings.inspection_status_topic

    def inspection(revision: int, **overdue: bool) -> CloudEvent:
        data = UnitInspectionStatus(
            unit_id=division,
            revision=revision,
            open_recommendations=[
                OpenRecommendation(
                    recommendation_id=rec, inspection_id="INS-1", due="2026-10-01", overdue=late
                )
                for rec, late in overdue.items()
            ],
            inspected_years=[2026],
        )
        return internal_event(UNIT_INSPECTION_STATUS, division, data.model_dump(), revision)

    second = inspection(2, R1=True)
    async with build(service.settings, clock=clock):
        await produce_raw(producer, topic, [(division.encode(), b"{not json", [])])
        await produce_raw(producer, service.settings.indicators_topic, [(b"x", b"[]", [])])
        await produce(
            producer,
            topic,
            [inspection(1, R1=False), second, inspection(3, R1=True, R2=False), second],
        )
        await produce(producer, topic, [inspection(4, R1=True, R2=True)])
        raised = await eventually(
            lambda: service.notifications(rule="recommendation_overdue"),
            lambda docs: len(docs) >= 2,
        )
        dead = await eventually(
            lambda: read_to_end(service.kafka, dead_letter_topic(topic)), lambda r: len(r) == 1
        )
        dead_indicators = await eventually(
            lambda: read_to_end(
                service.kafka, dead_letter_topic(service.settings.indicators_topic)
            ),
            lambda r: len(r) == 1,
        )
    assert sorted(d["details"]["recommendation_id"] for d in raised) == ["R1", "R2"]
    assert [
        d["details"]["revision"] for d in raised if d["details"]["recommendation_id"] == "R1"
    ] == [2]
    assert "quá hạn" in raised[0]["title"]
    assert dead[0].value == b"{not json"
    assert b"CloudEvent" in dict(dead[0].headers)["parity_error"]
    assert dead_indicators[0].value == b"[]"


async def test_an_inspection_status_that_cannot_become_a_notification_goes_to_the_dlq(
    service: Service, producer: AIOKafkaProducer, clock: ManualClock
) -> None:
    """A due date that is no date, or a unit id that is no identifier, would fail in render()
    or in Notification: the batch would be rewound forever. It goes to the DLQ instead, and
    the records after it are handled."""
    division = f"{service.prefix}-D"
    topic = service.settings.inspection_status_topic

    def overdue(unit_id: str, revision: int, due: str) -> CloudEvent:
        data = {
            "unit_id": unit_id,
            "revision": revision,
            "open_recommendations": [
                {
                    "recommendation_id": f"R{revision}",
                    "inspection_id": "INS-1",
                    "due": due,
                    "overdue": True,
                }
            ],
            "inspected_years": [2026],
        }
        return internal_event(UNIT_INSPECTION_STATUS, division, data, revision)

    async with build(service.settings, clock=clock):
        await produce(
            producer,
            topic,
            [
                overdue(division, 1, "2026-02-30"),  # not a date
                overdue(f"{division} bis", 2, "2026-10-01"),  # not an identifier
                overdue(division, 3, "2026-10-01"),
            ],
        )
        raised = await eventually(
            lambda: service.notifications(rule="recommendation_overdue"),
            lambda docs: len(docs) >= 1,
        )
        dead = await eventually(
            lambda: read_to_end(service.kafka, dead_letter_topic(topic)), lambda r: len(r) == 2
        )
    assert [d["details"]["recommendation_id"] for d in raised] == ["R3"]
    reasons = sorted(dict(r.headers)["parity_error"].decode() for r in dead)
    assert any("due" in reason for reason in reasons)
    assert any("unit_id" in reason for reason in reasons)
