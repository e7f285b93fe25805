"""The indicator service's composition root.

It consumes the personnel service's people and unit changes and the inspection service's
unit statuses, keeps the whole province in memory (see ``domain/tally.py``), and publishes
``gender-equality.indicators.v1``. The three input topics have one partition each and are
consumed by one subscriber in one group with the range assignor, so exactly one replica
owns all of them: the owner computes and publishes, other replicas stand by and take over
on a rebalance (reloading the province from the people topic and the store before their
first batch or sweep).

Run it with ``parity-indicators`` (or ``python -m services.indicators``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from aiokafka import TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from faststream import AckPolicy
from faststream.asgi import AsgiFastStream
from faststream.kafka.annotations import KafkaMessage
from pydantic import Field

from services.indicators.domain.contributions import Rules
from services.indicators.domain.tally import Tally
from services.indicators.feed import IndicatorFeed
from services.indicators.handlers import Collaborators, Province, apply_changes, sweep
from services.indicators.metrics import IndicatorMetrics, make_indicator_metrics
from services.indicators.people import PeopleLog, PeopleTopic
from services.indicators.store import IndicatorsStore
from shared.clock import Clock, SystemClock
from shared.dead_letters import DeadLetters
from shared.failing import Failures
from shared.internal import (
    INSPECTION_STATUS_TOPIC,
    PEOPLE_CHANGES_TOPIC,
    UNIT_CHANGES_TOPIC,
    decode_change,
)
from shared.kafka import make_broker
from shared.lag import track_consumer_lag
from shared.plans import Plan, load_plans
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
from shared.settings import ServiceSettings
from shared.topics import all_topics, ensure_topics

INPUT_TOPICS = (UNIT_CHANGES_TOPIC, PEOPLE_CHANGES_TOPIC, INSPECTION_STATUS_TOPIC)


class IndicatorsSettings(ServiceSettings):
    mongodb_database: str = "parity_indicators"
    group_id: str = "parity-indicators"
    # at least the person changes a personnel batch publishes (one per person, 2,000 at
    # most): a record per changed unit per batch (see PersonnelSettings)
    batch_size: int = Field(default=5000, ge=1, le=10_000)
    sweep_interval_seconds: float = Field(default=1.0, gt=0)
    metrics_port: int = 9102
    plans_dir: Path = Path("deploy/plans")
    key_leader_roles: frozenset[str] = frozenset({"head", "deputy_head"})
    qualifying_training_years: int = Field(default=5, ge=1)
    non_qualifying_training_categories: frozenset[str] = frozenset({"other"})
    planning_floor: Fraction = Fraction(1, 4)

    def rules(self) -> Rules:
        return Rules(
            key_leader_roles=self.key_leader_roles,
            qualifying_training_years=self.qualifying_training_years,
            non_qualifying_training_categories=self.non_qualifying_training_categories,
            planning_floor=self.planning_floor,
        )


@dataclass
class Runtime:
    """What exists only while the service runs (created on start-up, never at import)."""

    clients: Clients
    deps: Collaborators | None = None
    dead_letters: DeadLetters | None = None
    owner: bool = False  # this replica holds the input partitions
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def ready(self) -> tuple[Collaborators, DeadLetters]:
        if self.deps is None or self.dead_letters is None:
            raise RuntimeError("indicator service is not started")
        return self.deps, self.dead_letters


class Ownership(ConsumerRebalanceListener):  # type: ignore[misc]
    """Reload the province whenever this replica is given the input partitions."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self._runtime.owner = False

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        runtime = self._runtime
        runtime.owner = bool(assigned)
        if assigned:
            # The next batch or sweep reloads first, not this call: aiokafka sends no
            # heartbeat until it returns, and a reload of a large organisation outlasts the
            # session timeout (a 571,435-record one did): the group puts the consumer out,
            # assigns again, and the reload starts again, without end.
            deps, _ = runtime.ready()
            deps.province.stale = True


def consumer_groups(group_id: str) -> dict[str, list[str]]:
    """The service's consumer group (one for its three topics: a unit's facts stay with
    one replica), with its topics."""
    return {group_id: list(INPUT_TOPICS)}


def build(
    settings: IndicatorsSettings,
    *,
    clock: Clock | None = None,
    metrics: IndicatorMetrics | None = None,
    plans: list[Plan] | None = None,
    people: PeopleLog | None = None,
) -> AsgiFastStream:
    """Wire the service. Tests pass their own clock, metrics, plans or people log."""
    clock = clock or SystemClock()
    metrics = metrics or make_indicator_metrics()
    plans = plans if plans is not None else load_plans(settings.plans_dir)
    broker = make_broker(settings.kafka, service="indicators", registry=metrics.service.registry)
    runtime = Runtime(clients=Clients(settings, service="indicators"))
    failures = Failures(
        registry=metrics.service.registry,
        unhealthy_after=settings.unhealthy_after_failing_seconds,
    )

    @broker.subscriber(
        *INPUT_TOPICS,
        group_id=settings.group_id,
        batch=True,
        max_records=settings.batch_size,
        batch_timeout_ms=settings.kafka.poll_timeout_ms,
        auto_offset_reset="earliest",
        partition_assignment_strategy=(RangePartitionAssignor,),
        listener=Ownership(runtime),
        ack_policy=AckPolicy.NACK_ON_ERROR,  # a failure rewinds: the batch comes again
    )
    async def on_changes(msg: KafkaMessage) -> None:
        async with failures.watch("changes"):
            deps, dead_letters = runtime.ready()
            records = records_of(msg.raw_message)
            valid = await decode_batch(
                records, dead_letters=dead_letters, decode=value_decoder(decode_change)
            )
            people_end = max(
                (r.offset + 1 for r in records if r.topic == PEOPLE_CHANGES_TOPIC), default=0
            )
            async with runtime.lock:
                changes = [change for change, _ in valid]
                await apply_changes(changes, deps=deps, people_end=people_end)
            observe_latency(deps.metrics.service, records)

    async def sweep_if_owner() -> None:
        if runtime.owner and runtime.deps is not None:
            async with runtime.lock:
                await sweep(deps=runtime.deps)

    async def start() -> None:
        await ensure_topics(settings.kafka, all_topics(settings.kafka.partitions))
        db, producer = await runtime.clients.open()
        store = IndicatorsStore(db)
        await store.create_indexes()
        rules = settings.rules()
        runtime.deps = Collaborators(
            store=store,
            people=people or PeopleTopic(settings.kafka),
            feed=IndicatorFeed(producer=producer),
            clock=clock,
            metrics=metrics,
            plans=plans,
            rules=rules,
            province=Province(tally=Tally(rules=rules)),
        )
        runtime.dead_letters = DeadLetters(
            sender=producer, clock=clock, counter=metrics.service.dead_letters
        )
        interval = settings.sweep_interval_seconds
        runtime.tasks.append(
            asyncio.create_task(
                every(interval, sweep_if_owner, name="indicators sweep", failures=failures)
            )
        )
        runtime.tasks.append(
            track_consumer_lag(
                settings.kafka,
                registry=metrics.service.registry,
                groups=consumer_groups(settings.group_id),
                interval=settings.consumer_lag_interval_seconds,
            )
        )

    async def stop() -> None:
        await cancel_tasks(runtime.tasks)
        await runtime.clients.close()

    return asgi_app(
        broker,
        metrics=metrics.service,
        health_checks={"store": runtime.clients.store_healthy, **failures.health_checks()},
        on_startup=[start],
        on_shutdown=[stop],
    )


def main() -> None:
    settings = IndicatorsSettings()  # read from the environment
    run(build(settings), host=settings.metrics_host, port=settings.metrics_port)


if __name__ == "__main__":
    main()
