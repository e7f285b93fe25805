"""The notifications service on the real Kafka and FerretDB, a real SMTP server (aiosmtpd)
and a real HTTP receiver that verifies the webhook signature.

Each test has its own topics (indicators, inspection status, people changes, notifications),
database and consumer groups; the organisation comes from the shared units topic, where
each test's units have ids of their own (the reminder test also uses the root U-0001).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from services.notifications.app import build, topic_specs
from services.notifications.cli import build_parser, read_subscriptions, run_command
from services.notifications.domain.subscriptions import Subscription
from services.notifications.settings import NotificationsSettings
from services.notifications.store import NotificationsStore
from shared.clock import VIETNAM, ManualClock
from shared.contract import INDICATORS_EVENT_TYPE, NOTIFICATION_EVENT_TYPE, dead_letter_topic
from shared.envelope import CloudEvent, new_event
from shared.internal import (
    PERSON_CHANGED,
    UNIT_CHANGED,
    UNIT_CHANGES_TOPIC,
    UNIT_INSPECTION_STATUS,
    OpenRecommendation,
    UnitChanged,
    UnitInspectionStatus,
)
from shared.kafka import client_options, ensure_topics
from shared.settings import KafkaSettings
from shared.store import Document
from tests.integration.kafka_tools import eventually, produce, produce_raw
from tests.unit.test_notification_rules import TARGET, share, status

ROOT = Path(__file__).parents[2]
SECRET = "receiver-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- a real SMTP server ---------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        self.messages.append(message_from_bytes(content, policy=default_policy))
        return "250 Message accepted"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
async def mailbox() -> AsyncIterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    await asyncio.to_thread(controller.start)
    yield box, port
    await asyncio.to_thread(controller.stop)


# --- a real HTTP receiver that checks the signature -------------------------------------


def signature_ok(secret: str, header: str | None, body: bytes, tolerance: int = 300) -> bool:
    """The README's recipe: HMAC-SHA256 over "<t>." + body, and a timestamp near now."""
    if not header:
        return False
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not fields.get("t", "").isdigit() or abs(time.time() - int(fields["t"])) > tolerance:
        return False
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields.get("v1", ""))


@dataclass
class Receiver:
    secret: str
    fail_next: int = 0
    hold_next: int = 0
    requests: int = 0
    held: int = 0
    rejected: int = 0
    accepted: list[dict[str, Any]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests += 1
        if not signature_ok(self.secret, request.headers.get("Parity-Signature"), body):
            self.rejected += 1
            return web.Response(status=401, text="bad signature")
        if self.hold_next:  # the request hangs: its sender is stopped mid-delivery
            self.hold_next -= 1
            self.held += 1
            await asyncio.Event().wait()
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=503, text="try later")
        self.accepted.append(json.loads(body))
        return web.Response(status=204)

    def ids(self) -> list[str]:
        return [event["id"] for event in self.accepted]


@dataclass
class Receivers:
    port: int
    by_path: dict[str, Receiver] = field(default_factory=dict)

    def add(self, path: str, secret: str = SECRET) -> tuple[Receiver, str]:
        receiver = self.by_path[path] = Receiver(secret)
        return receiver, f"http://127.0.0.1:{self.port}/{path}"


@pytest.fixture
async def receivers() -> AsyncIterator[Receivers]:
    port = free_port()
    hub = Receivers(port)

    async def route(request: web.Request) -> web.Response:
        receiver = hub.by_path.get(request.match_info["path"])
        return await receiver.handle(request) if receiver else web.Response(status=404)

    app = web.Application()
    app.router.add_post("/{path}", route)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield hub
    await runner.cleanup()


# --- the service ----------------------------------------------------------------------------


@dataclass
class Service:
    settings: NotificationsSettings
    db: AsyncDatabase[Document]
    kafka: KafkaSettings
    prefix: str  # unit ids of this test start with it

    async def notifications(self, **query: Any) -> list[Document]:
        cursor = self.db["notifications"].find(query).sort("_id", 1)
        return [d async for d in cursor]

    async def deliveries(self, **query: Any) -> list[Document]:
        return [d async for d in self.db["deliveries"].find(query).sort("_id", 1)]

    async def subscribe(self, **fields: Any) -> None:
        store = NotificationsStore(self.db)
        await store.put_subscription(Subscription.model_validate(fields))


@pytest.fixture
async def service_settings(
    kafka_settings: KafkaSettings,
    mongodb_url: str,
    database_name: str,
    mailbox: tuple[Mailbox, int],
) -> AsyncIterator[NotificationsSettings]:
    run = uuid.uuid4().hex[:8]
    settings = NotificationsSettings(
        mongodb_url=mongodb_url,
        mongodb_database=database_name,
        group_id=f"test-notifications-{run}",
        kafka=kafka_settings,
        indicators_topic=f"test-{run}.gender-equality.indicators.v1",
        inspection_status_topic=f"test-{run}.parity.inspections.status.v1",
        people_changes_topic=f"test-{run}.parity.personnel.people.v1",
        notifications_topic=f"test-{run}.gender-equality.notifications.v1",
        smtp_host="127.0.0.1",
        smtp_port=mailbox[1],
        smtp_timeout_seconds=3,
        webhook_timeout_seconds=3,
        delivery_lease_seconds=4,
        shutdown_grace_seconds=0.5,  # less than the webhook timeout: a held request is cut
        retry_base_seconds=0.05,
        retry_cap_seconds=0.2,
        retry_max_attempts=5,
        outbox_poll_interval_seconds=0.05,
        check_interval_seconds=0.2,
        quiet_period=timedelta(hours=1),
        plans_dir=ROOT / "deploy" / "plans",
    )
    own = [s for s in topic_specs(settings) if s.name.startswith(f"test-{run}.")]
    await ensure_topics(kafka_settings, own)
    yield settings
    admin = AIOKafkaAdminClient(**client_options(kafka_settings))
    await admin.start()
    try:
        await admin.delete_topics([s.name for s in own])
    finally:
        await admin.close()


@pytest.fixture
def service(
    service_settings: NotificationsSettings,
    mongo: AsyncMongoClient[Document],
    database_name: str,
    kafka_settings: KafkaSettings,
) -> Service:
    prefix = f"N{uuid.uuid4().hex[:6]}"
    return Service(service_settings, mongo[database_name], kafka_settings, prefix)


# --- events as the other services publish them -----------------------------------------


def indicators_event(update: Any) -> CloudEvent:
    return new_event(
        source="parity/indicators",
        type_=INDICATORS_EVENT_TYPE,
        subject=update.unit_id,
        time=datetime.now(UTC),
        data=update.model_dump(mode="json"),
        event_id=f"{update.unit_id}:{update.version}",
    )


def internal_event(type_: str, subject: str, data: dict[str, Any], revision: int) -> CloudEvent:
    return new_event(
        source="parity/test",
        type_=type_,
        subject=subject,
        time=datetime.now(UTC),
        data=data,
        event_id=f"{type_}:{subject}:{revision}",
    )


def unit_changed(
    unit_id: str, parent: str | None, level: str, path: list[str], anomalies: Iterable[str] = ()
) -> CloudEvent:
    revision = time.time_ns()  # newer than anything another run published for the same id
    data = UnitChanged(
        unit_id=unit_id,
        revision=revision,
        registered=True,
        name=f"Đơn vị {unit_id}",
        level=level,
        parent_id=parent,
        path=path,
        active=True,
        valid_from="2020-01-01T00:00:00.000000+00:00",
        valid_to=None,
        closure=None,
        merged_into=None,
        pending_parent=None,
        anomalies=[
            {"kind": kind, "event_key": f"hrms/test\x1f{unit_id}-{i}", "detail": "x"}
            for i, kind in enumerate(anomalies)
        ],
    ).model_dump(mode="json")
    return internal_event(UNIT_CHANGED, unit_id, data, revision)


async def read_to_end(settings: KafkaSettings, topic: str) -> list[ConsumerRecord[Any, Any]]:
    """Every record of a topic, up to its end offsets as they are now."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        (description,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = [TopicPartition(topic, p["partition"]) for p in description["partitions"]]
    assert partitions, f"topic {topic} has no partitions"
    consumer = AIOKafkaConsumer(group_id=None, enable_auto_commit=False, **client_options(settings))
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[Any, Any]] = []
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


def notification_ids(messages: Iterable[Message]) -> list[str]:
    """The notification id header of each e-mail (unfolded)."""
    return sorted(str(m["X-Parity-Notification-Id"]).strip() for m in messages)


def published(records: list[ConsumerRecord[Any, Any]]) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records]


def division_status(
    unit_id: str,
    version: int,
    key_leader: tuple[int, int],
    floor: tuple[int, int],
    pool: tuple[int, int] = (4, 4),
) -> Any:
    return status(
        unit_id,
        version,
        female_key_leader_division_share=share(*key_leader, target=TARGET),
        units_meeting_planning_floor_share=share(*floor),
        female_share_in_division_planning_pool=share(*pool, target=TARGET),
    )


async def publish_statuses(producer: AIOKafkaProducer, service: Service, *updates: Any) -> None:
    await produce(
        producer, service.settings.indicators_topic, [indicators_event(u) for u in updates]
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
            unit_changed(agency, None, "agency", []),
            unit_changed(division, agency, "division", [agency]),
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
    async with build(service.settings, clock=clock):
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


async def test_the_receiver_verifies_signatures_and_one_failing_twice_gets_one_delivery(
    service: Service, producer: AIOKafkaProducer, clock: ManualClock, receivers: Receivers
) -> None:
    division = f"{service.prefix}-D"
    flaky, flaky_url = receivers.add(f"{service.prefix}-flaky")
    flaky.fail_next = 2
    strict, strict_url = receivers.add(f"{service.prefix}-strict", secret="what-the-receiver-knows")
    await service.subscribe(
        id="flaky", name="Flaky", webhook_url=flaky_url, secret=SECRET, unit_id=division
    )
    await service.subscribe(
        id="forged",
        name="Forged",
        webhook_url=strict_url,
        secret="not-the-secret",
        unit_id=division,
    )
    async with build(service.settings, clock=clock):
        await publish_statuses(producer, service, division_status(division, 1, (0, 1), (1, 1)))
        final = await eventually(
            lambda: service.deliveries(channel="webhook"),
            lambda docs: len(docs) == 2 and all(d["status"] != "pending" for d in docs),
        )
    by_subscription = {d["subscription_id"]: d for d in final}
    delivered, refused = by_subscription["flaky"], by_subscription["forged"]
    assert delivered["status"] == "delivered"
    assert [entry["outcome"] for entry in delivered["log"]] == ["retry", "retry", "delivered"]
    assert delivered["attempts"] == 3
    assert "503" in delivered["log"][0]["reason"]
    assert flaky.requests == 3
    assert flaky.rejected == 0
    assert flaky.ids() == [delivered["notification_id"]]  # exactly one delivery
    assert refused["status"] == "failed"
    assert "401" in refused["last_error"]
    assert strict.rejected == 1
    assert strict.accepted == []


async def test_a_restart_mid_delivery_loses_nothing_and_duplicates_nothing(
    service: Service,
    producer: AIOKafkaProducer,
    clock: ManualClock,
    mailbox: tuple[Mailbox, int],
    receivers: Receivers,
) -> None:
    box, _ = mailbox
    division = f"{service.prefix}-D"
    receiver, url = receivers.add(f"{service.prefix}-hook")
    receiver.hold_next = 1
    await service.subscribe(
        id="s", name="S", email="s@example.vn", webhook_url=url, secret=SECRET, unit_id=division
    )
    async with build(service.settings, clock=clock):
        await publish_statuses(producer, service, division_status(division, 1, (0, 1), (1, 1)))
        await eventually(lambda: asyncio.sleep(0, receiver.held), lambda held: held == 1)
    # stopped while the webhook request was in flight: the outbox still has it
    (cut_short,) = await service.deliveries(channel="webhook")
    assert (cut_short["status"], cut_short["attempts"]) == ("pending", 0)
    async with build(service.settings, clock=clock):
        await eventually(
            lambda: service.deliveries(),
            lambda docs: len(docs) == 3 and all(d["status"] == "delivered" for d in docs),
        )
    (notification,) = await service.notifications()
    assert receiver.ids() == [notification["_id"]]
    (webhook,) = await service.deliveries(channel="webhook")
    assert webhook["attempts"] == 1
    assert notification_ids(box.to("s@example.vn")) == [notification["_id"]]
    events = published(await read_to_end(service.kafka, service.settings.notifications_topic))
    assert [e["id"] for e in events] == [notification["_id"]]


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
            unit_changed(root, None, "province", []),
            unit_changed(agency, root, "agency", [root]),
            unit_changed(school, agency, "public_service_unit", [root, agency]),
            unit_changed(division, agency, "division", [root, agency]),
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


def person_changed(
    person_id: str, revision: int, home: str, anomalies: list[tuple[str, str]]
) -> CloudEvent:
    data = {
        "person_id": person_id,
        "revision": revision,
        "registered": True,
        "active": True,
        "gender": "female",
        "ethnic_minority": False,
        "category": "civil_servant",
        "home_unit_id": home,
        "left_reason": None,
        "positions": [],
        "planning_entries": [],
        "trainings": [],
        "appointments": [],
        "anomalies": [
            {"kind": kind, "event_key": f"hrms/test\x1f{key}", "detail": f"{person_id} {kind}"}
            for kind, key in anomalies
        ],
        "pending_units": [],
    }
    return internal_event(PERSON_CHANGED, person_id, data, revision)


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
            [unit_changed(other, None, "agency", [], ["unit_not_registered"])],
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


async def test_subscriptions_are_managed_by_the_cli_and_seeded_from_yaml(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARITY_EXAMPLE_WEBHOOK_SECRET", "from-the-environment")
    example = read_subscriptions(ROOT / "deploy" / "subscriptions.example.yaml")
    assert example  # the shipped example is valid
    parser_args = ["seed", str(ROOT / "deploy" / "subscriptions.example.yaml")]
    assert "stored" in await run_command(build_parser().parse_args(parser_args), service.settings)
    add = [
        "add", "--id", "cli", "--name", "Phòng Nội vụ", "--email", "pnv@example.vn",
        "--unit", "U-0007", "--rule", "target_breached", "--min-severity", "warning",
    ]  # fmt: skip
    await run_command(build_parser().parse_args(add), service.settings)
    listing = await run_command(build_parser().parse_args(["list"]), service.settings)
    assert "cli\tPhòng Nội vụ\tU-0007\ttarget_breached\t>= warning\temail pnv@example.vn" in listing
    assert "from-the-environment" not in listing
    stored = await service.db["subscriptions"].find_one({"secret": "from-the-environment"})
    assert stored is not None  # the webhook secret, read from the environment, is kept
    removed = await run_command(build_parser().parse_args(["remove", "cli"]), service.settings)
    assert removed == "removed cli"
    ids = {s.id for s in await NotificationsStore(service.db).all_subscriptions()}
    assert ids == {s.id for s in example}
