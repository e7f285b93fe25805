"""Watching the pipeline from outside: consumer-group lag (settled or not) and the feed."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.protocol.admin import (
    DescribeGroupsRequest_v0,
    DescribeGroupsRequest_v1,
    DescribeGroupsRequest_v2,
)
from aiokafka.protocol.api import Request

from shared.kafka import client_options
from shared.settings import KafkaSettings

Groups = Mapping[str, Sequence[str]]
APPOINTMENTS = "female_share_of_appointments_ytd"
R = TypeVar("R")


UpToV2 = DescribeGroupsRequest_v0 | DescribeGroupsRequest_v1 | DescribeGroupsRequest_v2


class DescribeGroupsUpToV2(Request[UpToV2]):  # type: ignore[misc]  # aiokafka: no type hints
    """DescribeGroups at version 2 at most. aiokafka 0.14's ``describe_consumer_groups``
    asks Kafka 4.1 for version 3 and decodes the answer with version 2's schema
    (``DescribeGroupsRequest_v3.RESPONSE_TYPE``), which fails: "Buffer underrun decoding
    string"."""

    API_KEY = 15

    def __init__(self, groups: list[str]) -> None:
        self._groups = groups

    def build(self, request_struct_class: Any) -> Any:  # one of the three above
        return request_struct_class(self._groups)


class LagProbe:
    """Committed offsets of consumer groups against the ends of their topics, with one
    admin client and one consumer kept open (the probe polls every few tens of ms)."""

    def __init__(self, settings: KafkaSettings) -> None:
        self._admin = AIOKafkaAdminClient(**client_options(settings))
        self._consumer = AIOKafkaConsumer(enable_auto_commit=False, **client_options(settings))
        self._partitions: dict[str, list[TopicPartition]] = {}

    async def __aenter__(self) -> LagProbe:
        await self._admin.start()
        await self._consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()
        await self._admin.close()

    async def partitions(self, topic: str) -> list[TopicPartition]:
        if topic not in self._partitions:
            (description,) = await self._admin.describe_topics([topic])
            numbers = sorted(p["partition"] for p in description["partitions"])
            if not numbers:
                raise LookupError(f"topic {topic} has no partitions")
            self._partitions[topic] = [TopicPartition(topic, n) for n in numbers]
        return self._partitions[topic]

    async def behind(self, groups: Groups) -> dict[str, int]:
        """Records of each group's topics it has not committed yet."""
        lags: dict[str, int] = {}
        for group, topics in groups.items():
            committed = await self._admin.list_consumer_group_offsets(group)
            partitions = [tp for topic in topics for tp in await self.partitions(topic)]
            ends = await self._consumer.end_offsets(partitions)
            lags[group] = sum(
                end - max(0, committed[tp].offset if tp in committed else 0)
                for tp, end in ends.items()
            )
        return lags

    async def total_records(self, topics: Sequence[str]) -> int:
        partitions = [tp for topic in topics for tp in await self.partitions(topic)]
        return sum((await self._consumer.end_offsets(partitions)).values())

    async def wait_joined(
        self, groups: Sequence[str], *, timeout: float, check: Callable[[], None]
    ) -> None:
        """Until every group is stable with a member: its consumers started and were given
        their partitions. ``check`` runs at every look (it raises if a process died)."""
        deadline = time.monotonic() + timeout
        while True:
            check()
            joined = set()
            for group_id in groups:
                node = await self._admin.find_coordinator(group_id)
                # the admin client sends a request of our own through its private method only
                response = await self._admin._send_request(DescribeGroupsUpToV2([group_id]), node)
                for group in response.to_object()["groups"]:
                    if group["state"] == "Stable" and group["members"]:
                        joined.add(group["group"])
            if joined >= set(groups):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"not joined after {timeout:.0f} s: {set(groups) - joined}")
            await asyncio.sleep(0.2)

    async def wait_settled(
        self,
        groups: Groups,
        *,
        started: float,
        timeout: float,
        interval: float = 0.05,
        check: Callable[[], None] | None = None,
    ) -> float:
        """Seconds from ``started`` (time.monotonic) until every group had committed
        everything, seen twice in a row ``interval`` apart (the second look catches what a
        group published to another meanwhile). The time is that of the first of the two.
        ``check`` runs at every look (it raises if a service process died)."""
        settled_at: float | None = None
        while True:
            if check is not None:
                check()
            looked_at = time.monotonic()
            try:
                lags = await self.behind(groups)
            except KafkaError as error:  # e.g. a new Kafka still electing group coordinators
                if not error.retriable:
                    raise
                lags = {"(retrying)": 1}
            if any(lags.values()):
                settled_at = None
            elif settled_at is None:
                settled_at = looked_at
            else:
                return settled_at - started
            if looked_at - started > timeout:
                raise TimeoutError(f"not settled after {timeout:.0f} s: {lags}")
            await asyncio.sleep(interval)


@dataclass(frozen=True)
class FeedRecord:
    unit_id: str
    appointments: int  # the denominator of female_share_of_appointments_ytd
    published_ms: int  # the record's CreateTime (set by the indicator service's producer)
    seen_ms: int  # when this watcher received it


@dataclass(frozen=True)
class PersonChangeRecord:
    person_id: str
    appointment_times: frozenset[str]  # the `time` of each appointment the change carries
    published_ms: int  # the record's CreateTime (set by the personnel service's producer)


@dataclass
class TopicWatcher(Generic[R]):
    """Reads partitions from their end onwards, keeping every record as ``parse`` makes it
    (from the Kafka record and the instant this watcher received it, in ms)."""

    settings: KafkaSettings
    parse: Callable[[Any, int], R]
    records: list[R] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _consumer: AIOKafkaConsumer | None = None

    async def start(self, partitions: list[TopicPartition]) -> None:
        consumer = self._consumer = AIOKafkaConsumer(
            enable_auto_commit=False, **client_options(self.settings)
        )
        await consumer.start()
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:  # resolve the positions now, before anything is produced
            await consumer.position(tp)
        self._task = asyncio.create_task(self._read(consumer))

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=100)
            seen_ms = int(time.time() * 1000)
            for batch in batches.values():
                self.records.extend(self.parse(r, seen_ms) for r in batch)
            if batches:
                self.arrived.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.stop()


def person_change_record(record: Any, seen_ms: int) -> PersonChangeRecord:
    data = json.loads(record.value)["data"]
    return PersonChangeRecord(
        person_id=data["person_id"],
        appointment_times=frozenset(a["time"] for a in data.get("appointments") or ()),
        published_ms=record.timestamp,
    )


def feed_record(record: Any, seen_ms: int) -> FeedRecord:
    data = json.loads(record.value)["data"]
    return FeedRecord(
        unit_id=data["unit_id"],
        appointments=data["indicators"][APPOINTMENTS]["denominator"] or 0,
        published_ms=record.timestamp,
        seen_ms=seen_ms,
    )


def latest_appointments(records: Sequence[Any]) -> dict[str, int]:
    """The appointment count of each unit's latest feed record (records read from Kafka):
    the one at the highest offset (a unit's records share a partition). Not the highest
    version: the bench's rebuild publishes every unit again from version 1 on the same
    feed, below the versions of the end-to-end run before it."""
    latest: dict[str, tuple[int, int]] = {}  # unit -> (offset, appointments)
    for record in records:
        parsed = feed_record(record, 0)
        known = latest.get(parsed.unit_id)
        if known is None or known[0] < record.offset:
            latest[parsed.unit_id] = (record.offset, parsed.appointments)
    return {unit_id: appointments for unit_id, (_, appointments) in latest.items()}
