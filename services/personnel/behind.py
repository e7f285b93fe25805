"""A running service far behind on people: the backlog after a batch applied in bulk.

A burst of HR records (a bulk import, a service back after hours) reaches a running
service as full batches, each writing a person once per batch that holds her events: about
once an event, when her events are spread over years (catch_up.py). So after a full batch
of people, the subscriber looks at how far behind it is: when one of its partitions holds
at least ``catch_up_records`` records past its position, the records of that partition
(``BULK_PASSES`` times that many at most, so that the subscriber is back within aiokafka's
``max_poll_interval_ms``) are read with a consumer of no group and applied in passes as
the first start's catch-up applies them, each person's events together. Then the
subscriber's consumer seeks past them, and the batch's commit takes them with it.

What keeps it safe: the commit comes after every record up to it is applied; should the
service stop or fail meanwhile, the batch comes again and what was applied is recognised
by its events' keys (shared/history.py). Should the partition go to another replica
meanwhile (a rebalance), this one does not seek it, its commit is refused, and the other
reads from the last committed offset: what was applied here comes again as duplicates.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.personnel.catch_up import Apply, Backlog, apply_in_passes
from services.personnel.handlers import Collaborators
from shared.contract import PERSONNEL_TOPIC
from shared.service import Record
from shared.settings import KafkaSettings

log = logging.getLogger("parity.personnel")

BULK_PASSES = 4  # passes at most in one go: about 30 s on the 290,000-record province


def full(records: Sequence[Record], batch_size: int) -> bool:
    """Whether a batch took all it could: more records likely wait behind it."""
    return len(records) >= batch_size


async def catch_up_behind(
    consumer: AIOKafkaConsumer,
    *,
    kafka: KafkaSettings,
    at_most: int,
    deps: Collaborators,
    apply: Apply,
) -> int:
    """Apply in bulk the backlog of the subscriber's partition of people furthest behind,
    if it holds ``at_most`` records or more; how many records were applied."""
    assigned = sorted(
        (tp for tp in consumer.assignment() if tp.topic == PERSONNEL_TOPIC),
        key=lambda tp: tp.partition,
    )
    if not assigned or not at_most:
        return 0
    positions: dict[TopicPartition, int] = {tp: await consumer.position(tp) for tp in assigned}
    ends: dict[TopicPartition, int] = await consumer.end_offsets(assigned)
    partition = max(assigned, key=lambda tp: ends[tp] - positions[tp])
    start = positions[partition]
    if ends[partition] - start < at_most:
        return 0
    end = min(ends[partition], start + BULK_PASSES * at_most)
    backlog = Backlog(kafka)
    await backlog.start()
    try:
        backlog.mark({partition: start}, {partition: end})
        with deps.store.recent_people.paused():
            passes = await apply_in_passes(backlog, partition, at_most, apply)
    finally:
        await backlog.close()
    if partition in consumer.assignment():
        consumer.seek(partition, end)
    log.info(
        "behind: %s offsets %d to %d applied in bulk in %d passes (%d more waiting)",
        partition,
        start,
        end,
        passes,
        ends[partition] - end,
    )
    return end - start
