"""Consumer lag as a Prometheus metric (FastStream does not export it).

``parity_consumer_lag{group, topic}`` is, for one consumer group on one topic, the number of
records not yet committed, summed over the topic's partitions: the end offset minus the
committed offset, or minus the log start offset where the group has committed nothing yet
(its consumers start from the earliest record). A service's composition root starts one
periodic task for all of its groups and cancels it on shutdown::

    # in build(): the groups this service's subscribers use, with their topics
    groups = groups_per_topic(settings.group_id, (UNITS_TOPIC, PERSONNEL_TOPIC))  # shared.kafka

    async def start() -> None:
        ...
        runtime.tasks.append(
            track_consumer_lag(
                settings.kafka,
                registry=metrics.registry,
                groups=groups,
                interval=settings.consumer_lag_interval_seconds,  # ServiceSettings, 15 s
            )
        )

    async def stop() -> None:
        for task in runtime.tasks:
            task.cancel()
            ...

The task owns its Kafka clients (one admin client, one group-less consumer for offsets) and
closes them when cancelled. A failed poll is logged with its traceback and retried at the
next tick; the gauge keeps its last value meanwhile. A group that reads several topics lists
them all (``{group: [topic_a, topic_b]}``); Prometheus adds the ``service`` label from the
scrape config (deploy/prometheus/prometheus.yml).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import CollectorRegistry, Gauge

from shared.kafka import client_options
from shared.service import every
from shared.settings import KafkaSettings

log = logging.getLogger("parity.lag")

LAG_METRIC = "parity_consumer_lag"
DEFAULT_INTERVAL_SECONDS = 15.0


@dataclass(frozen=True)
class PartitionOffsets:
    """What the broker says about one partition, for one group."""

    log_start: int
    end: int
    committed: int | None  # None: the group has committed nothing on this partition


def partition_lag(offsets: PartitionOffsets) -> int:
    """Records of the partition the group has not committed yet (never negative)."""
    position = offsets.log_start if offsets.committed is None else offsets.committed
    return max(0, offsets.end - max(position, offsets.log_start))


def topic_lag(partitions: Collection[PartitionOffsets]) -> int:
    return sum(partition_lag(p) for p in partitions)


def consumer_lag_gauge(registry: CollectorRegistry) -> Gauge:
    """The lag gauge of a registry, created on first use (a registry holds one)."""
    existing = registry._names_to_collectors.get(LAG_METRIC)
    if isinstance(existing, Gauge):
        return existing
    return Gauge(
        LAG_METRIC,
        "Records not yet committed by a consumer group, summed over the topic's partitions",
        ["group", "topic"],
        registry=registry,
    )


class LagProbe:
    """Reads committed, log start and end offsets; one instance per running task."""

    def __init__(self, settings: KafkaSettings, *, client_id: str, **consumer_options: Any) -> None:
        options = client_options(settings)
        self._admin = AIOKafkaAdminClient(client_id=client_id, **options)
        self._consumer = AIOKafkaConsumer(
            client_id=client_id,
            group_id=None,
            enable_auto_commit=False,
            **options,
            **consumer_options,
        )

    async def start(self) -> None:
        await self._admin.start()
        await self._consumer.start()

    async def close(self) -> None:
        try:
            await self._consumer.stop()
        finally:
            await self._admin.close()

    async def partitions(self, topic: str) -> list[TopicPartition]:
        (described,) = await self._admin.describe_topics([topic])
        if described["error_code"] != 0 or not described["partitions"]:
            raise LookupError(f"topic {topic}: no partitions (error {described['error_code']})")
        return [TopicPartition(topic, p["partition"]) for p in described["partitions"]]

    async def committed(self, group: str) -> dict[TopicPartition, int]:
        """The offsets ``group`` has committed (partitions with none left out)."""
        offsets = await self._admin.list_consumer_group_offsets(group)
        return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}

    async def lag(self, group: str, topics: Collection[str]) -> dict[str, int]:
        committed = await self.committed(group)
        result = {}
        for topic in topics:
            partitions = await self.partitions(topic)
            starts = await self._consumer.beginning_offsets(partitions)
            ends = await self._consumer.end_offsets(partitions)
            result[topic] = topic_lag(
                [
                    PartitionOffsets(
                        log_start=starts[tp],
                        end=ends[tp],
                        committed=committed.get(tp),
                    )
                    for tp in partitions
                ]
            )
        return result


async def behind(probe: LagProbe, groups: Mapping[str, Collection[str]]) -> dict[str, int]:
    """Records each group has not committed yet, over all its topics."""
    return {g: sum((await probe.lag(g, topics)).values()) for g, topics in groups.items()}


async def wait_caught_up(
    probe: LagProbe,
    groups: Mapping[str, Collection[str]],
    *,
    timeout: float,
    interval: float = 0.5,
) -> None:
    """Return once every group has committed everything, seen twice in a row (the second
    look catches what one group published to another meanwhile); TimeoutError naming the
    groups still behind after ``timeout`` seconds."""
    deadline, quiet = time.monotonic() + timeout, 0
    while quiet < 2:
        lags = await behind(probe, groups)
        quiet = quiet + 1 if not any(lags.values()) else 0
        if time.monotonic() > deadline:
            late = {g: n for g, n in lags.items() if n}
            raise TimeoutError(f"consumers still behind after {timeout:.0f} s: {late}")
        await asyncio.sleep(interval)


async def poll_lag(probe: LagProbe, gauge: Gauge, groups: Mapping[str, Collection[str]]) -> None:
    """One reading of every group's lag into the gauge."""
    for group, topics in groups.items():
        for topic, lag in (await probe.lag(group, topics)).items():
            gauge.labels(group=group, topic=topic).set(lag)


async def _started_probe(settings: KafkaSettings, client_id: str, interval: float) -> LagProbe:
    """A started probe; while Kafka cannot be reached, log and try again every ``interval``."""
    while True:
        probe = LagProbe(settings, client_id=client_id)
        try:
            await probe.start()
            return probe
        except BaseException as error:
            await probe.close()  # also when cancelled half-way through start()
            if not isinstance(error, Exception):
                raise
            log.exception("consumer lag: cannot reach Kafka; retrying in %.1f s", interval)
        await asyncio.sleep(interval)


async def _track(
    settings: KafkaSettings,
    gauge: Gauge,
    groups: Mapping[str, Collection[str]],
    interval: float,
    client_id: str,
) -> None:
    probe = await _started_probe(settings, client_id, interval)
    try:
        try:
            await poll_lag(probe, gauge, groups)
        except Exception:
            log.exception("consumer lag: first reading failed; retrying in %.1f s", interval)
        await every(interval, lambda: poll_lag(probe, gauge, groups), name="consumer lag")
    finally:
        await probe.close()


def track_consumer_lag(
    settings: KafkaSettings,
    *,
    registry: CollectorRegistry,
    groups: Mapping[str, Collection[str]],
    interval: float = DEFAULT_INTERVAL_SECONDS,
    client_id: str = "parity-lag",
) -> asyncio.Task[None]:
    """Start the periodic lag reading of ``groups`` (group id -> its topics) on ``registry``.

    Call it from the service's start-up hook (a running event loop is needed) and cancel the
    returned task on shutdown; cancelling closes its Kafka clients.
    """
    if interval <= 0:
        raise ValueError("interval must be positive")
    gauge = consumer_lag_gauge(registry)
    frozen = {group: tuple(topics) for group, topics in groups.items()}
    return asyncio.create_task(
        _track(settings, gauge, frozen, interval, client_id), name="parity consumer lag"
    )
