"""What the notifications tests share: a real SMTP server's mailbox, real HTTP receivers that
check the webhook signature, the service's own database, and events as the other services
publish them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiohttp import web
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiosmtpd.smtp import SMTP, Envelope, Session
from pymongo.asynchronous.database import AsyncDatabase

from services.notifications.domain.subscriptions import Subscription
from services.notifications.settings import NotificationsSettings
from services.notifications.store import NotificationsStore
from shared.envelope import CloudEvent, new_event
from shared.internal import (
    PERSON_CHANGED,
    UNIT_CHANGED,
)
from shared.outbound import INDICATORS_EVENT_TYPE
from shared.settings import KafkaSettings
from shared.store import Document
from tests.facts import unit_at
from tests.integration.kafka_tools import produce
from tests.unit.test_notification_rules import TARGET, share, status

ROOT = Path(__file__).parents[3]
SECRET = "receiver-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- a real SMTP server ---------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refusals: dict[str, list[str]] = {}  # address → answers to its next RCPTs

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        answers = self.refusals.get(address)
        if answers:
            return answers.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        self.messages.append(message_from_bytes(content, policy=default_policy))
        return "250 Message accepted"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


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
    redirect_to: str | None = None  # answers every POST with a 302 to this URL
    pages: int = 0  # GETs answered with a page (a login page, say)
    accepted: list[dict[str, Any]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.method == "GET":
            self.pages += 1
            return web.Response(text="<html>a page</html>", content_type="text/html")
        self.requests += 1
        if self.redirect_to:
            raise web.HTTPFound(self.redirect_to)
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
    unit_id: str, level: str, path: list[str], anomalies: Iterable[str] = ()
) -> CloudEvent:
    revision = time.time_ns()  # newer than anything another run published for the same id
    unit = unit_at(
        unit_id,
        path,
        level,
        revision=revision,
        valid_from="2020-01-01T00:00:00.000000+00:00",
        anomalies=[
            {"kind": kind, "event_key": f"hrms/test\x1f{unit_id}-{i}", "detail": "x"}
            for i, kind in enumerate(anomalies)
        ],
    )
    return internal_event(UNIT_CHANGED, unit_id, unit.model_dump(mode="json"), revision)


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
