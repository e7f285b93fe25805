"""A first start on a backlog: the topics read to their ends in bulk, each person folded once.

The subscribers take a batch of at most ``batch_size`` records, and a person is written,
and her change published, once per batch that holds her events. On a backlog whose people's
events are spread over years, most batches hold one event of each person: a rebuild of the
290,000-record province wrote each person about 3.7 times, and the indicator service
applied every one of those changes (bench/RESULTS-300k.md).

When none of the service's consumer groups has committed an offset (a rebuild from offset
0, a first deployment on topics that already hold records), the service first reads both
topics up to the ends they have then, with a consumer of no group, before its subscribers
join:

- units first, in each partition's order, ``catch_up_records`` at a time (all of them, in
  any province we measured: each batch re-derives the tree);
- then people, partition by partition: a person's records are all in one partition (they
  are keyed by subject), and a partition is read in as many passes as it takes to hold at
  most ``catch_up_records`` records at a time, each pass taking the keys that hash to it.
  Every person's events are applied together, by the same handler as a batch's.

Records are decoded as the subscribers decode them (poison to the DLQ, once: each record is
decoded by one pass). Then each group commits the ends it was read to, and the subscribers
start from there.

What keeps it safe: nothing is committed before everything up to the ends is applied, so a
process stopped meanwhile leaves no offsets and its successor starts again (what was
written is recognised by its events' keys, shared/history.py). A replica that starts
meanwhile finds no offsets either and does the same; the two take turns on each document
by revision (store.py). If a replica joined a group meanwhile, Kafka refuses the ends
(commits from outside a group are taken only while it has no members): the replica reads
from its own offsets, and what was applied here comes again as duplicates. Two topics
read one after the other reach what streaming would: a person folded before her unit's
event is folded again by it, and a person folded after it sees the unit as it is.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from services.personnel.handlers import (
    Collaborators,
    Handler,
    apply_person_events,
    apply_records,
)
from services.personnel.unit_handlers import apply_unit_events
from shared.backoff import doubling_wait
from shared.contract import PERSONNEL_TOPIC, UNITS_TOPIC
from shared.dead_letters import DeadLetters
from shared.kafka import client_options, records_to_end, topic_group
from shared.lag import LagProbe
from shared.service import Record
from shared.settings import KafkaSettings

log = logging.getLogger("parity.personnel")

CLIENT_ID = "parity-personnel-catch-up"
FETCH_BYTES = 32 * 1024 * 1024
COORDINATOR_WAIT = 60.0
T = TypeVar("T")
Apply = Callable[[Sequence[Record], Handler], Awaitable[None]]  # apply_records, bound


def passes_for(records: int, at_most: int) -> int:
    """How many passes over a partition of ``records`` hold ``at_most`` at a time."""
    return max(1, -(-records // at_most))


def taken_by(this_pass: int, passes: int) -> Callable[[Record], bool]:
    """Whether a record is taken by ``this_pass`` of ``passes``: by its key, so that a
    person's records go together."""

    def takes(record: Record) -> bool:
        return zlib.crc32(record.key or b"") % passes == this_pass

    return takes


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


async def asking_again(ask: Callable[[], Awaitable[T]], what: str) -> T:
    """``ask()``, again while Kafka answers with a retriable error (a new group's
    coordinator not elected yet, say), for ``COORDINATOR_WAIT`` seconds at most."""
    deadline = time.monotonic() + COORDINATOR_WAIT
    failures = 0
    while True:
        try:
            return await ask()
        except KafkaError as error:
            if not error.retriable or time.monotonic() > deadline:
                raise
            failures += 1
            log.info("catch-up: %s asking for %s; again", error, what)
            await asyncio.sleep(doubling_wait(failures, first=0.1, longest=2.0))


class Backlog(LagProbe):
    """Reads partitions from their starts up to the ends they had when :meth:`mark_ends` ran."""

    def __init__(self, settings: KafkaSettings) -> None:
        # a partition is read to its end at once: fetches of 1 MB (the default) each waited
        # for the fetcher's backoff (shared/consuming.py)
        super().__init__(
            settings,
            client_id=CLIENT_ID,
            max_partition_fetch_bytes=FETCH_BYTES,
            fetch_max_bytes=FETCH_BYTES,
        )
        self.starts: dict[TopicPartition, int] = {}
        self.ends: dict[TopicPartition, int] = {}

    async def committed_nothing(self, groups: Iterable[str]) -> bool:
        """Whether none of ``groups`` has committed an offset."""
        for group in groups:
            if await asking_again(partial(self.committed, group), f"{group}'s offsets"):
                return False
        return True

    def mark(
        self, starts: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
    ) -> None:
        """Take these partitions, to be read from ``starts`` up to ``ends``."""
        self._consumer.assign(list(ends))
        self.starts, self.ends = dict(starts), dict(ends)

    async def mark_ends(self, topics: Iterable[str]) -> int:
        """Take the topics' partitions with their starts and ends; how many records lie
        between."""
        partitions = [tp for topic in topics for tp in await self.partitions(topic)]
        starts = await self._consumer.beginning_offsets(partitions)
        self.mark(starts, await self._consumer.end_offsets(partitions))
        return sum(self.size(tp) for tp in partitions)

    def marked(self, topic: str) -> list[TopicPartition]:
        """The topic's partitions taken by :meth:`mark` or :meth:`mark_ends`, in order."""
        return sorted((tp for tp in self.ends if tp.topic == topic), key=lambda tp: tp.partition)

    def size(self, partition: TopicPartition) -> int:
        return self.ends[partition] - self.starts[partition]

    async def read(
        self, partition: TopicPartition, keep: Callable[[Record], bool] = lambda _: True
    ) -> list[Record]:
        """The records of ``partition`` from its start to its end that ``keep`` takes."""
        self._consumer.seek(partition, self.starts[partition])
        kept: list[Record] = []
        end = self.ends[partition]
        async for chunk in records_to_end(self._consumer, partition, chunk=5000, until=end):
            kept += [record for record in chunk if keep(record)]
        return kept


async def apply_in_passes(
    backlog: Backlog, partition: TopicPartition, at_most: int, apply: Apply
) -> int:
    """Apply a marked partition of people, in as many passes as hold ``at_most`` records
    at a time, each pass taking the keys that hash to it; how many passes."""
    passes = passes_for(backlog.size(partition), at_most)
    for this_pass in range(passes):
        taken = await backlog.read(partition, keep=taken_by(this_pass, passes))
        await apply(taken, apply_person_events)
    return passes


async def commit_ends(
    settings: KafkaSettings, group: str, ends: Mapping[TopicPartition, int]
) -> bool:
    """Commit ``ends`` for ``group`` without joining it (a consumer assigned by hand);
    whether Kafka took them. It refuses them while the group has members: a replica joined
    meanwhile and reads from its own offsets, so what this start applied comes again, as
    duplicates."""
    consumer = AIOKafkaConsumer(
        client_id=CLIENT_ID, group_id=group, enable_auto_commit=False, **client_options(settings)
    )
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.commit(dict(ends))
        return True
    except CommitFailedError as refused:
        log.warning(
            "catch-up: %s did not take its offsets (%s): a member joined it", group, refused
        )
        return False
    finally:
        await consumer.stop()


async def catch_up(
    *,
    kafka: KafkaSettings,
    group_id: str,
    at_most: int,
    deps: Collaborators,
    dead_letters: DeadLetters,
) -> bool:
    """Apply both topics' backlogs in bulk if no group of the service committed anything;
    whether it did."""
    groups = {topic: topic_group(group_id, topic) for topic in (UNITS_TOPIC, PERSONNEL_TOPIC)}
    backlog = Backlog(kafka)
    await backlog.start()
    try:
        if not await backlog.committed_nothing(groups.values()):
            return False
        total = await backlog.mark_ends(list(groups))
        if not total:
            return False  # the subscribers start at the beginning
        log.info("catching up in bulk on %d records before the subscribers start", total)

        apply = partial(apply_records, deps=deps, dead_letters=dead_letters)
        # units first, all together: each batch of them re-derives the tree
        for partition in backlog.marked(UNITS_TOPIC):
            for chunk in chunks(await backlog.read(partition), at_most):
                await apply(chunk, apply_unit_events)
        with deps.store.recent_people.paused():
            for partition in backlog.marked(PERSONNEL_TOPIC):
                passes = await apply_in_passes(backlog, partition, at_most, apply)
                log.info("catch-up: %s applied in %d passes", partition, passes)
    finally:
        await backlog.close()
    for topic, group in groups.items():
        await commit_ends(kafka, group, {tp: backlog.ends[tp] for tp in backlog.marked(topic)})
    log.info("caught up on %d records", total)
    return True
