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


async def test_a_webhook_that_redirects_is_not_followed_and_fails_with_the_reason(
    service: Service, producer: AIOKafkaProducer, clock: ManualClock, receivers: Receivers
) -> None:
    """aiohttp would follow a 302 as a GET without the body: no delivery, not "delivered"."""
    division = f"{service.prefix}-D"
    page, page_url = receivers.add(f"{service.prefix}-login")
    moved, moved_url = receivers.add(f"{service.prefix}-moved")
    moved.redirect_to = page_url
    await service.subscribe(
        id="moved", name="Moved", webhook_url=moved_url, secret=SECRET, unit_id=division
    )
    async with build(service.settings, clock=clock):
        await publish_statuses(producer, service, division_status(division, 1, (0, 1), (1, 1)))
        (final,) = await eventually(
            lambda: service.deliveries(channel="webhook"),
            lambda docs: len(docs) == 1 and docs[0]["status"] != "pending",
        )
    assert final["status"] == "failed"
    assert [entry["outcome"] for entry in final["log"]] == ["failed"]
    assert "HTTP 302" in final["last_error"]
    assert page_url in final["last_error"]  # where it points: the subscription needs that URL
    assert (moved.requests, page.pages, page.requests) == (1, 0, 0)


async def test_a_greylisted_recipient_is_tried_again_an_unknown_one_fails_at_once(
    service: Service, producer: AIOKafkaProducer, clock: ManualClock, mailbox: tuple[Mailbox, int]
) -> None:
    """A per-recipient refusal is permanent only when its code is 5xx (README, Delivery)."""
    box, _ = mailbox
    division = f"{service.prefix}-D"
    box.refusals["grey@example.vn"] = ["451 4.7.1 Greylisted, try again later"]
    box.refusals["gone@example.vn"] = ["550 5.1.1 No such user"] * 5
    await service.subscribe(id="grey", name="Grey", email="grey@example.vn", unit_id=division)
    await service.subscribe(id="gone", name="Gone", email="gone@example.vn", unit_id=division)
    async with build(service.settings, clock=clock):
        await publish_statuses(producer, service, division_status(division, 1, (0, 1), (1, 1)))
        final = await eventually(
            lambda: service.deliveries(channel="email"),
            lambda docs: len(docs) == 2 and all(d["status"] != "pending" for d in docs),
        )
    grey, gone = (next(d for d in final if d["subscription_id"] == s) for s in ("grey", "gone"))
    assert [entry["outcome"] for entry in grey["log"]] == ["retry", "delivered"]
    assert "451" in grey["log"][0]["reason"]
    assert notification_ids(box.to("grey@example.vn")) == [grey["notification_id"]]
    assert [entry["outcome"] for entry in gone["log"]] == ["failed"]
    assert "550" in gone["last_error"]
    assert box.to("gone@example.vn") == []


async def test_queued_e_mails_follow_their_subscription_removed_or_changed(
    service: Service, producer: AIOKafkaProducer, clock: ManualClock, mailbox: tuple[Mailbox, int]
) -> None:
    """A removed subscription fails at once; a changed address is where the e-mail goes.
    (Both addresses keep refusing with a 4xx: only the change can end their retries. An
    attempt that read the subscription just before its removal may still go out.)"""
    box, _ = mailbox
    division = f"{service.prefix}-D"
    for address in ("gone@example.vn", "old@example.vn"):
        box.refusals[address] = ["451 4.3.2 Try again later"] * 1000
    await service.subscribe(id="gone", name="Gone", email="gone@example.vn", unit_id=division)
    await service.subscribe(id="moved", name="Moved", email="old@example.vn", unit_id=division)
    patient = service.settings.model_copy(update={"retry_max_attempts": 1000})
    async with build(patient, clock=clock):
        await publish_statuses(producer, service, division_status(division, 1, (0, 1), (1, 1)))
        await eventually(
            lambda: service.deliveries(channel="email"),
            lambda docs: len(docs) == 2 and all(d["attempts"] >= 1 for d in docs),
        )
        store = NotificationsStore(service.db)
        assert await store.remove_subscription("gone")
        await service.subscribe(id="moved", name="Moved", email="new@example.vn", unit_id=division)
        final = await eventually(
            lambda: service.deliveries(channel="email"),
            lambda docs: all(d["status"] != "pending" for d in docs),
        )
    gone, moved = (next(d for d in final if d["subscription_id"] == s) for s in ("gone", "moved"))
    assert gone["status"] == "failed"
    assert "removed" in gone["last_error"]
    assert moved["status"] == "delivered"
    assert notification_ids(box.to("new@example.vn")) == [moved["notification_id"]]
    assert box.to("old@example.vn") == box.to("gone@example.vn") == []


async def test_a_queued_webhook_goes_to_the_current_url_signed_with_the_current_secret(
    service: Service, producer: AIOKafkaProducer, clock: ManualClock, receivers: Receivers
) -> None:
    division = f"{service.prefix}-D"
    old, old_url = receivers.add(f"{service.prefix}-old")
    old.fail_next = 1000
    new, new_url = receivers.add(f"{service.prefix}-new", secret="rotated-secret")
    await service.subscribe(
        id="hook", name="Hook", webhook_url=old_url, secret=SECRET, unit_id=division
    )
    patient = service.settings.model_copy(update={"retry_max_attempts": 1000})
    async with build(patient, clock=clock):
        await publish_statuses(producer, service, division_status(division, 1, (0, 1), (1, 1)))
        await eventually(lambda: asyncio.sleep(0, old.requests), lambda n: n >= 1)
        await service.subscribe(
            id="hook", name="Hook", webhook_url=new_url, secret="rotated-secret", unit_id=division
        )
        (final,) = await eventually(
            lambda: service.deliveries(channel="webhook"),
            lambda docs: len(docs) == 1 and docs[0]["status"] != "pending",
        )
    assert final["status"] == "delivered"
    assert new.ids() == [final["notification_id"]]
    assert (new.rejected, old.rejected) == (0, 0)  # each signed with the secret of its URL


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
