"""The inspections service's composition root: settings, clients, the subscriber, the sweep.

Run it with ``parity-inspections`` (or ``python -m services.inspections``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from faststream import AckPolicy
from faststream.asgi import AsgiFastStream
from faststream.kafka.annotations import KafkaMessage
from pydantic import Field

from services.inspections.handlers import (
    Collaborators,
    RollupTracker,
    apply_inspection_events,
    by_subject,
    refresh_rollups,
    sweep,
)
from services.inspections.metrics import InspectionMetrics, make_inspection_metrics
from services.inspections.status import KafkaStatusSink, StatusSink
from services.inspections.store import InspectionsStore
from shared.clock import VIETNAM, Clock, SystemClock
from shared.contract import INSPECTIONS_TOPIC
from shared.dead_letters import DeadLetters
from shared.failing import Failures
from shared.internal import UnitChanged
from shared.kafka import groups_per_topic, make_broker, topic_group
from shared.lag import track_consumer_lag
from shared.organisation import Organisation, UnitsFeed
from shared.service import (
    Clients,
    asgi_app,
    cancel_tasks,
    decode_batch,
    every,
    observe_latency,
    records_of,
    run,
)
from shared.settings import ServiceSettings
from shared.topics import all_topics, ensure_topics


class InspectionsSettings(ServiceSettings):
    mongodb_database: str = "parity_inspections"
    group_id: str = "parity-inspections"
    batch_size: int = Field(default=500, ge=1, le=10_000)
    sweep_interval_seconds: float = Field(default=1.0, gt=0)
    metrics_port: int = 9103


@dataclass
class Runtime:
    """What exists only while the service runs (created on start-up, never at import)."""

    clients: Clients
    deps: Collaborators | None = None
    dead_letters: DeadLetters | None = None
    units_feed: UnitsFeed | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def ready(self) -> tuple[Collaborators, DeadLetters]:
        if self.deps is None or self.dead_letters is None:
            raise RuntimeError("inspections service is not started")
        return self.deps, self.dead_letters


def consumer_groups(group_id: str) -> dict[str, list[str]]:
    """The service's consumer group, with its topic."""
    return groups_per_topic(group_id, (INSPECTIONS_TOPIC,))


def build(
    settings: InspectionsSettings,
    *,
    clock: Clock | None = None,
    metrics: InspectionMetrics | None = None,
    statuses: StatusSink | None = None,
) -> AsgiFastStream:
    """Wire the service. Tests pass their own clock, metrics or status sink."""
    clock = clock or SystemClock()
    metrics = metrics or make_inspection_metrics()
    registry = metrics.service.registry
    broker = make_broker(settings.kafka, service="inspections", registry=registry)
    runtime = Runtime(clients=Clients(settings, service="inspections"))
    failures = Failures(registry=registry, unhealthy_after=settings.unhealthy_after_failing_seconds)
    tracker = RollupTracker()
    organisation = Organisation()

    @broker.subscriber(
        INSPECTIONS_TOPIC,
        group_id=topic_group(settings.group_id, INSPECTIONS_TOPIC),
        batch=True,
        max_records=settings.batch_size,
        batch_timeout_ms=settings.kafka.poll_timeout_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,  # a failure rewinds: the batch comes again
    )
    async def on_inspections(msg: KafkaMessage) -> None:
        async with failures.watch(INSPECTIONS_TOPIC):
            deps, dead_letters = runtime.ready()
            records = records_of(msg.raw_message)
            valid = await decode_batch(records, dead_letters=dead_letters)
            await apply_inspection_events(by_subject(e for e, _ in valid), deps=deps)
            observe_latency(deps.metrics.service, [r for _, r in valid])

    async def on_unit(unit: UnitChanged) -> None:
        tracker.tree_changed = True  # the sweep recomputes the roll-ups

    async def start() -> None:
        await ensure_topics(settings.kafka, all_topics(settings.kafka.partitions))
        db, producer = await runtime.clients.open()
        store = InspectionsStore(db)
        await store.create_indexes()
        await store.build_agenda()
        feed = runtime.units_feed = UnitsFeed(settings.kafka, organisation, on_unit)
        await feed.start()  # the whole tree is known before the first batch
        deps = runtime.deps = Collaborators(
            store=store,
            statuses=statuses or KafkaStatusSink(producer=producer, clock=clock),
            organisation=organisation,
            clock=clock,
            metrics=metrics,
            tracker=tracker,
        )
        runtime.dead_letters = DeadLetters(
            sender=producer, clock=clock, counter=metrics.service.dead_letters
        )
        tracker.tree_changed, tracker.year = False, clock.now().astimezone(VIETNAM).year
        await refresh_rollups(None, deps=deps)
        interval = settings.sweep_interval_seconds
        runtime.tasks.append(
            asyncio.create_task(
                every(interval, lambda: sweep(deps), name="inspections sweep", failures=failures)
            )
        )
        runtime.tasks.append(
            track_consumer_lag(
                settings.kafka,
                registry=registry,
                groups=consumer_groups(settings.group_id),
                interval=settings.consumer_lag_interval_seconds,
            )
        )
        # the gauges count whole collections: on the consumer-lag interval, not every sweep
        runtime.tasks.append(
            asyncio.create_task(
                every(
                    settings.consumer_lag_interval_seconds,
                    lambda: metrics.observe(store),
                    name="inspections gauges",
                )
            )
        )

    async def stop() -> None:
        await cancel_tasks(runtime.tasks)
        if runtime.units_feed is not None:
            await runtime.units_feed.stop()
        await runtime.clients.close()

    return asgi_app(
        broker,
        metrics=metrics.service,
        health_checks={"store": runtime.clients.store_healthy, **failures.health_checks()},
        on_startup=[start],
        on_shutdown=[stop],
    )


def main() -> None:
    settings = InspectionsSettings()  # read from the environment
    run(build(settings), host=settings.metrics_host, port=settings.metrics_port)


if __name__ == "__main__":
    main()
