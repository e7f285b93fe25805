"""Delivery: a webhook receiver that verifies the signature, retries, a restart mid-delivery
(nothing lost or doubled), and the subscriptions the command line manages."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaProducer

from services.notifications.app import build
from services.notifications.cli import build_parser, read_subscriptions, run_command
from services.notifications.store import NotificationsStore
from shared.clock import ManualClock
from tests.integration.kafka_tools import eventually, read_to_end
from tests.integration.notifications.wiring import (
    ROOT,
    SECRET,
    Mailbox,
    Receivers,
    Service,
    division_status,
    notification_ids,
    publish_statuses,
    published,
)


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
