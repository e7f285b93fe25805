"""The notifications service's composition root: settings, clients, subscribers, workers.

Run it with ``parity-notifications`` (or ``python -m services.notifications``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
from faststream import AckPolicy
from faststream.asgi import AsgiFastStream
from faststream.kafka.annotations import KafkaMessage

from services.notifications.cli import read_subscriptions
from services.notifications.delivery.email import EmailSender, SmtpServer
from services.notifications.delivery.events import EventPublisher
from services.notifications.delivery.outbox import OutboxWorker
from services.notifications.delivery.webhooks import WebhookSender
from services.notifications.domain.policy import RetryPolicy
from services.notifications.handlers import (
    Collaborators,
    RuleSettings,
    apply_indicator_updates,
    apply_inspection_statuses,
    check_calendar,
    record_person_anomalies,
    record_unit_anomalies,
)
from services.notifications.metrics import make_notification_metrics
from services.notifications.records import change_decoder, decode_indicators
from services.notifications.settings import NotificationsSettings
from services.notifications.store import NotificationsStore
from shared.clock import Clock, SystemClock
from shared.contract import dead_letter_topic
from shared.dead_letters import DeadLetters
from shared.failing import Failures
from shared.internal import UNIT_CHANGES_TOPIC, PersonChanged, UnitChanged, UnitInspectionStatus
from shared.kafka import groups_per_topic, make_broker, topic_group
from shared.lag import track_consumer_lag
from shared.metrics import ServiceMetrics, make_metrics
from shared.organisation import Organisation, UnitsFeed
from shared.plans import load_plans
from shared.service import (
    Clients,
    asgi_app,
    cancel_tasks,
    decode_batch,
    every,
    observe_latency,
    records_of,
    run,
    value_decoder,
)
from shared.topics import TopicSpec, all_topics, ensure_topics, feed_topic, state_topic


@dataclass
class Runtime:
    """What exists only while the service runs (created on start-up, never at import)."""

    clients: Clients
    deps: Collaborators | None = None
    dead_letters: DeadLetters | None = None
    session: aiohttp.ClientSession | None = None
    feed: UnitsFeed | None = None
    worker: OutboxWorker | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def ready(self) -> tuple[Collaborators, DeadLetters]:
        if self.deps is None or self.dead_letters is None:
            raise RuntimeError("notifications service is not started")
        return self.deps, self.dead_letters


def consumed_topics(settings: NotificationsSettings) -> tuple[str, ...]:
    """The topics the service consumes, each in a group of its own."""
    return (
        settings.indicators_topic,
        settings.inspection_status_topic,
        settings.people_changes_topic,
        UNIT_CHANGES_TOPIC,
    )


def topic_specs(settings: NotificationsSettings) -> list[TopicSpec]:
    """Every topic the service reads or writes, with a dead-letter topic for each input."""
    partitions = settings.kafka.partitions
    inputs = [
        feed_topic(settings.indicators_topic, partitions),
        state_topic(settings.inspection_status_topic),
        state_topic(settings.people_changes_topic),
        state_topic(UNIT_CHANGES_TOPIC),
    ]
    specs = [
        *all_topics(partitions),
        *inputs,
        *(TopicSpec(dead_letter_topic(spec.name), 1) for spec in inputs),
        TopicSpec(settings.notifications_topic, partitions),
    ]
    return list({spec.name: spec for spec in reversed(specs)}.values())  # first one wins


def build(
    settings: NotificationsSettings,
    *,
    clock: Clock | None = None,
    timer: Clock | None = None,
    metrics: ServiceMetrics | None = None,
) -> AsgiFastStream:
    """Wire the service. ``clock`` is business time (deadlines, quiet periods, days);
    ``timer`` schedules deliveries (retries, leases) and defaults to the real clock."""
    clock = clock or SystemClock()
    timer = timer or SystemClock()
    metrics = metrics or make_metrics("notifications")
    notification_metrics = make_notification_metrics(metrics.registry)
    broker = make_broker(settings.kafka, service="notifications", registry=metrics.registry)
    runtime = Runtime(clients=Clients(settings, service="notifications"))
    failures = Failures(
        registry=metrics.registry, unhealthy_after=settings.unhealthy_after_failing_seconds
    )

    def subscriber(topic: str) -> Callable[[Callable[[KafkaMessage], Awaitable[None]]], Any]:
        return broker.subscriber(
            topic,
            group_id=topic_group(settings.group_id, topic),
            batch=True,
            max_records=settings.batch_size,
            batch_timeout_ms=settings.kafka.poll_timeout_ms,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,  # a failure rewinds: the batch comes again
        )

    @subscriber(settings.indicators_topic)
    async def on_indicators(msg: KafkaMessage) -> None:
        async with failures.watch(settings.indicators_topic):
            deps, dead_letters = runtime.ready()
            records = records_of(msg.raw_message)
            decode = decode_indicators
            updates = await decode_batch(records, dead_letters=dead_letters, decode=decode)
            await apply_indicator_updates((u for u, _ in updates), deps=deps)
            observe_latency(metrics, records)

    @subscriber(settings.inspection_status_topic)
    async def on_inspection_status(msg: KafkaMessage) -> None:
        async with failures.watch(settings.inspection_status_topic):
            deps, dead_letters = runtime.ready()
            records = records_of(msg.raw_message)
            decode = value_decoder(change_decoder(UnitInspectionStatus))
            statuses = await decode_batch(records, dead_letters=dead_letters, decode=decode)
            await apply_inspection_statuses((s for s, _ in statuses), deps=deps)
            observe_latency(metrics, records)

    @subscriber(settings.people_changes_topic)
    async def on_people_changes(msg: KafkaMessage) -> None:
        async with failures.watch(settings.people_changes_topic):
            deps, dead_letters = runtime.ready()
            decode = value_decoder(change_decoder(PersonChanged))
            people = await decode_batch(
                records_of(msg.raw_message), dead_letters=dead_letters, decode=decode
            )
            await record_person_anomalies((p for p, _ in people), deps=deps)

    @subscriber(UNIT_CHANGES_TOPIC)
    async def on_unit_changes(msg: KafkaMessage) -> None:
        async with failures.watch(UNIT_CHANGES_TOPIC):
            deps, dead_letters = runtime.ready()
            decode = value_decoder(change_decoder(UnitChanged))
            units = await decode_batch(
                records_of(msg.raw_message), dead_letters=dead_letters, decode=decode
            )
            await record_unit_anomalies((u for u, _ in units), deps=deps)

    async def start() -> None:
        plans = tuple(load_plans(settings.plans_dir))
        seeded = (
            read_subscriptions(settings.subscriptions_file) if settings.subscriptions_file else []
        )
        await ensure_topics(settings.kafka, topic_specs(settings))
        db, producer = await runtime.clients.open()
        store = NotificationsStore(db)
        await store.create_indexes()
        for subscription in seeded:
            await store.put_subscription(subscription)
        organisation = Organisation()
        runtime.feed = UnitsFeed(settings.kafka, organisation)
        await runtime.feed.start()  # the whole tree before any rule runs
        session = runtime.session = aiohttp.ClientSession()
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        smtp = SmtpServer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            user=settings.smtp_user,
            password=password,
            tls=settings.smtp_tls,
            timeout=settings.smtp_timeout_seconds,
            sender=settings.sender_address,
        )
        worker = OutboxWorker(
            store=store,
            channels={
                "event": EventPublisher(producer=producer, topic=settings.notifications_topic),
                "email": EmailSender(
                    smtp, subscription_of=store.subscription, language=settings.language
                ),
                "webhook": WebhookSender(
                    session=session,
                    subscription_of=store.subscription,
                    timer=timer,
                    timeout=settings.webhook_timeout_seconds,
                ),
            },
            timer=timer,
            policy=RetryPolicy(
                base=timedelta(seconds=settings.retry_base_seconds),
                cap=timedelta(seconds=settings.retry_cap_seconds),
                max_attempts=settings.retry_max_attempts,
            ),
            lease=timedelta(seconds=settings.delivery_lease_seconds),
            batch_size=settings.outbox_batch_size,
            poll_interval=settings.outbox_poll_interval_seconds,
            metrics=notification_metrics,
        )
        deps = runtime.deps = Collaborators(
            store=store,
            organisation=organisation,
            plans=plans,
            clock=clock,
            timer=timer,
            metrics=notification_metrics,
            rules=RuleSettings(
                language=settings.language,
                quiet_period=settings.quiet_period,
                lead_times_days=tuple(settings.lead_times_days),
            ),
            wake_outbox=worker.wake,
            tree_caught_up=runtime.feed.caught_up,
        )
        runtime.dead_letters = DeadLetters(
            sender=producer, clock=clock, counter=metrics.dead_letters
        )
        runtime.worker = worker
        runtime.tasks += [
            asyncio.create_task(worker.run(), name="notifications outbox"),  # first: see stop
            asyncio.create_task(
                every(
                    settings.check_interval_seconds,
                    lambda: check_calendar(deps=deps),
                    name="notifications calendar",  # deadline reminders, daily summaries
                    failures=failures,
                )
            ),
            track_consumer_lag(
                settings.kafka,
                registry=metrics.registry,
                groups=groups_per_topic(settings.group_id, consumed_topics(settings)),
                interval=settings.consumer_lag_interval_seconds,
            ),
        ]

    async def stop_workers() -> None:
        """Before the broker stops: the attempts under way get a grace period to finish; one
        cut short keeps its lease and is tried again after it (by this or another replica)."""
        if runtime.worker is not None and runtime.tasks:
            runtime.worker.stop()
            await asyncio.wait(runtime.tasks[:1], timeout=settings.shutdown_grace_seconds)
        await cancel_tasks(runtime.tasks)

    async def stop() -> None:
        await stop_workers()
        if runtime.feed is not None:
            await runtime.feed.stop()
        if runtime.session is not None:
            await runtime.session.close()
        await runtime.clients.close()

    app = asgi_app(
        broker,
        metrics=metrics,
        health_checks={"store": runtime.clients.store_healthy, **failures.health_checks()},
        on_startup=[start],
        on_shutdown=[stop],
    )
    app.on_shutdown(stop_workers)
    return app


def main() -> None:
    settings = NotificationsSettings()  # read from the environment
    run(build(settings), host=settings.metrics_host, port=settings.metrics_port)


if __name__ == "__main__":
    main()
