"""Fixtures of the notifications tests: a real SMTP server, real webhook receivers, and the
service's settings with topics, database and consumer groups of each test's own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from aiokafka.admin import AIOKafkaAdminClient
from aiosmtpd.controller import Controller
from pymongo import AsyncMongoClient

from services.notifications.app import topic_specs
from services.notifications.settings import NotificationsSettings
from shared.kafka import client_options
from shared.settings import KafkaSettings
from shared.store import Document
from shared.topics import ensure_topics
from tests.integration.notifications.wiring import (
    ROOT,
    Mailbox,
    Receivers,
    Service,
    free_port,
)


@pytest.fixture
async def mailbox() -> AsyncIterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    await asyncio.to_thread(controller.start)
    yield box, port
    await asyncio.to_thread(controller.stop)


@pytest.fixture
async def receivers() -> AsyncIterator[Receivers]:
    port = free_port()
    hub = Receivers(port)

    async def route(request: web.Request) -> web.Response:
        receiver = hub.by_path.get(request.match_info["path"])
        return await receiver.handle(request) if receiver else web.Response(status=404)

    app = web.Application()
    app.router.add_route("*", "/{path}", route)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield hub
    await runner.cleanup()


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
