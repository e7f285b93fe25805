"""The personnel service's composition root: settings, clients, subscribers, the sweep.

Run it with ``parity-personnel`` (or ``python -m services.personnel``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiokafka import AIOKafkaConsumer
from faststream import AckPolicy
from faststream.asgi import AsgiFastStream
from faststream.kafka.annotations import KafkaMessage
from pydantic import Field

from services.personnel.behind import catch_up_behind, full
from services.personnel.catch_up import catch_up
from services.personnel.changes import ChangeSink, KafkaChangeSink
from services.personnel.handlers import (
    Collaborators,
    Handler,
    apply_person_events,
    apply_records,
)
from services.personnel.outbox import publish_unpublished
from services.personnel.store import PersonnelStore
from services.personnel.unit_handlers import apply_unit_events
from shared.clock import Clock, SystemClock
from shared.contract import PERSONNEL_TOPIC, UNITS_TOPIC
from shared.dead_letters import DeadLetters
from shared.failing import Failures
from shared.kafka import groups_per_topic, make_broker, topic_group
from shared.lag import track_consumer_lag
from shared.metrics import ServiceMetrics, make_metrics
from shared.service import (
    Clients,
    asgi_app,
    cancel_tasks,
    every,
    records_of,
    run,
)
from shared.settings import ServiceSettings
from shared.topics import all_topics, ensure_topics


class PersonnelSettings(ServiceSettings):
    mongodb_database: str = "parity_personnel"
    group_id: str = "parity-personnel"
    # The most records a batch takes. A batch takes what the broker holds, so this matters
    # only with a backlog (a rebuild, a catch-up): a person is written once per batch that
    # holds her events, and the indicator service publishes a record per unit per batch.
    # End to end on a 60-agency province (31,430 records, ad hoc, two runs each, the
    # indicator service's limit the same as this one): 500 wrote 2.00 documents an event and
    # reached 0.254-0.279 of the upsert ceiling; 2,000, 1.43 and 0.368-0.384; 5,000,
    # 1.18-1.20 and 0.398-0.422. The 290,000-record province's rebuild: 500 (indicators
    # 1,000), 627.8 s, this service's peak memory 187 MB; 2,000 (indicators 5,000), 514.3 s,
    # 209 MB; 5,000 (the same), 538.6 s and 265 MB, over the 250 MB the service is held to
    # (bench/RESULTS-300k.md).
    batch_size: int = Field(default=2000, ge=1, le=10_000)
    sweep_interval_seconds: float = Field(default=1.0, gt=0)
    metrics_port: int = 9101
    # people kept as last written, to spare reading them again (recent.py); 0: none
    recent_people: int = Field(default=80_000, ge=0)
    # The records read and held at once by a bulk catch-up: on a first start on a backlog
    # (no group committed anything, catch_up.py), and after a full batch of people with
    # at least this many more behind it in a partition (behind.py); 0: neither, the
    # subscribers read it all in batches.
    catch_up_records: int = Field(default=20_000, ge=0)


@dataclass
class Runtime:
    """What exists only while the service runs (created on start-up, never at import)."""

    clients: Clients
    deps: Collaborators | None = None
    dead_letters: DeadLetters | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # The consumers and the sweep write people and units in turn: two writers of one
    # document in this process would overwrite each other (writes are by _id, see store.py).
    writer: asyncio.Lock = field(default_factory=asyncio.Lock)

    def ready(self) -> tuple[Collaborators, DeadLetters]:
        if self.deps is None or self.dead_letters is None:
            raise RuntimeError("personnel service is not started")
        return self.deps, self.dead_letters


async def sweep(deps: Collaborators) -> None:
    """Future-dated events whose time has come take effect (units first, then people), and
    changes a stopped writer left unpublished are published."""
    now = deps.clock.now()
    due_units = await deps.store.due("units", now)
    if due_units:
        await apply_unit_events({u: () for u in due_units}, deps=deps)
        await deps.store.reschedule("units", due_units)
    due_people = await deps.store.due("people", now)
    subjects = sorted(due_people)
    for start in range(0, len(subjects), 500):
        await apply_person_events({p: () for p in subjects[start : start + 500]}, deps=deps)
    if due_people:
        await deps.store.reschedule("people", due_people)
    await publish_unpublished(deps=deps)


async def count_waiting(deps: Collaborators) -> None:
    """The pending-reference and future-event gauges: reads of the small collections, not
    on every sweep (which holds the writer lock) but on the consumer-lag interval."""
    pending, waiting = await deps.store.count_pending()
    deps.metrics.pending_references.set(pending)
    deps.metrics.waiting_future_events.set(waiting)


def consumer_groups(group_id: str) -> dict[str, list[str]]:
    """The service's consumer groups (one per topic), with their topics."""
    return groups_per_topic(group_id, (UNITS_TOPIC, PERSONNEL_TOPIC))


def build(
    settings: PersonnelSettings,
    *,
    clock: Clock | None = None,
    metrics: ServiceMetrics | None = None,
    changes: ChangeSink | None = None,
) -> AsgiFastStream:
    """Wire the service. Tests pass their own clock, metrics or change sink."""
    clock = clock or SystemClock()
    metrics = metrics or make_metrics("personnel")
    broker = make_broker(settings.kafka, service="personnel", registry=metrics.registry)
    runtime = Runtime(clients=Clients(settings, service="personnel"))
    failures = Failures(
        registry=metrics.registry, unhealthy_after=settings.unhealthy_after_failing_seconds
    )

    def subscriber(topic: str) -> Callable[[Callable[[KafkaMessage], Awaitable[None]]], Any]:
        # one group per topic, so that a replica joining for one topic does not pause the other
        return broker.subscriber(
            topic,
            group_id=topic_group(settings.group_id, topic),
            batch=True,
            max_records=settings.batch_size,
            batch_timeout_ms=settings.kafka.poll_timeout_ms,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,  # a failure rewinds: the batch comes again
        )

    async def handle(msg: KafkaMessage, topic: str, apply: Handler) -> None:
        """Decode a batch of ``topic`` and apply it, the writer lock held; after a full
        batch of people, the backlog behind it in bulk (behind.py)."""
        async with failures.watch(topic):
            deps, dead_letters = runtime.ready()
            records = records_of(msg.raw_message)
            bound = partial(apply_records, deps=deps, dead_letters=dead_letters)
            async with runtime.writer:
                await bound(records, apply)
                consumer = msg.consumer
                if (
                    topic == PERSONNEL_TOPIC
                    and full(records, settings.batch_size)
                    and isinstance(consumer, AIOKafkaConsumer)  # not FastStream's test one
                ):
                    await catch_up_behind(
                        consumer,
                        kafka=settings.kafka,
                        at_most=settings.catch_up_records,
                        deps=deps,
                        apply=bound,
                    )

    @subscriber(UNITS_TOPIC)
    async def on_units(msg: KafkaMessage) -> None:
        await handle(msg, UNITS_TOPIC, apply_unit_events)

    @subscriber(PERSONNEL_TOPIC)
    async def on_personnel(msg: KafkaMessage) -> None:
        await handle(msg, PERSONNEL_TOPIC, apply_person_events)

    async def start() -> None:
        partitions = settings.kafka.partitions
        await ensure_topics(settings.kafka, all_topics(partitions))
        db, producer = await runtime.clients.open()
        store = PersonnelStore(db, recent_people=settings.recent_people)
        await store.create_indexes()
        await store.build_lookups()
        runtime.deps = Collaborators(
            store=store,
            changes=changes or KafkaChangeSink(producer=producer, clock=clock),
            clock=clock,
            metrics=metrics,
        )
        runtime.dead_letters = DeadLetters(
            sender=producer, clock=clock, counter=metrics.dead_letters
        )
        deps = runtime.deps
        if settings.catch_up_records:
            await catch_up(
                kafka=settings.kafka,
                group_id=settings.group_id,
                at_most=settings.catch_up_records,
                deps=deps,
                dead_letters=runtime.dead_letters,
            )

        async def sweep_in_turn() -> None:
            async with runtime.writer:
                await sweep(deps)

        interval = settings.sweep_interval_seconds
        runtime.tasks.append(
            asyncio.create_task(
                every(interval, sweep_in_turn, name="personnel sweep", failures=failures)
            )
        )
        runtime.tasks.append(
            asyncio.create_task(
                every(
                    settings.consumer_lag_interval_seconds,
                    lambda: count_waiting(deps),
                    name="personnel gauges",
                )
            )
        )
        runtime.tasks.append(
            track_consumer_lag(
                settings.kafka,
                registry=metrics.registry,
                groups=consumer_groups(settings.group_id),
                interval=settings.consumer_lag_interval_seconds,
            )
        )

    async def stop() -> None:
        await cancel_tasks(runtime.tasks)
        await runtime.clients.close()

    return asgi_app(
        broker,
        metrics=metrics,
        health_checks={"store": runtime.clients.store_healthy, **failures.health_checks()},
        on_startup=[start],
        on_shutdown=[stop],
    )


def main() -> None:
    settings = PersonnelSettings()  # read from the environment
    run(build(settings), host=settings.metrics_host, port=settings.metrics_port)


if __name__ == "__main__":
    main()
