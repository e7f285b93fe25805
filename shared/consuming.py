"""The consumer under every subscriber: a batch takes what the broker holds when it starts.

aiokafka's ``getmany`` returns the records its fetcher has buffered. The fetcher fetches a
partition again only once its buffered records are taken, and while any buffered records
are younger than its prefetch backoff (100 ms) it sends that broker no fetch at all. So
while a batch was handled, the first record to arrive was fetched and the rest were left
at the broker: the next ``getmany`` returned that one record, and the others came a
batch later. At 550 events/s into the personnel service a record waited 80 ms (p50) from
produced to its handler's start, 1.7 of its 47 ms batches (bench, ad hoc).

So a batch is topped up when its records had waited in the buffer: when the newest fetch
of a partition it took came back more than ``top_up_after_ms`` before. Taking them set off a
fetch of the partitions they emptied; the consumer waits up to ``top_up_ms`` for it and
adds what it brings, in each partition's order, up to ``max_records``. The broker answers
that fetch at once when it holds records. A batch whose records had just come (the
consumer was waiting for them: an idle or lightly loaded system) is not topped up, and
waits for nothing more.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from faststream.kafka import KafkaBroker

TOP_UP_MS = 5

Batch = dict[TopicPartition, list[ConsumerRecord[Any, Any]]]


class TopUpConsumer(AIOKafkaConsumer):  # type: ignore[misc]  # aiokafka is untyped
    """An aiokafka consumer whose ``getmany`` tops a batch up once (see above)."""

    def __init__(
        self,
        *topics: str,
        top_up_after_ms: int = TOP_UP_MS,
        top_up_ms: int = TOP_UP_MS,
        **options: Any,
    ) -> None:
        super().__init__(*topics, **options)
        self.top_up_after_ms = top_up_after_ms
        self.top_up_ms = top_up_ms

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> Batch:
        taken: Batch = await super().getmany(
            *partitions, timeout_ms=timeout_ms, max_records=max_records
        )
        room = None if max_records is None else max_records - sum(map(len, taken.values()))
        if room == 0 or not self.top_up_ms or not self._waited_in_buffer(taken):
            return taken
        more = await super().getmany(*partitions, timeout_ms=self.top_up_ms, max_records=room)
        for partition, records in more.items():
            taken.setdefault(partition, []).extend(records)
        return taken

    def _waited_in_buffer(self, taken: Mapping[TopicPartition, Sequence[Any]]) -> bool:
        """Whether the newest fetch of a partition taken came back over
        ``top_up_after_ms`` ago (aiokafka's ``last_poll_timestamp``, in epoch ms)."""
        now_ms = time.time() * 1000
        fetched = [self.last_poll_timestamp(partition) for partition in taken]
        return any(now_ms - at > self.top_up_after_ms for at in fetched if at is not None)


class TopUpBroker(KafkaBroker):
    """FastStream's Kafka broker, its subscribers built on :class:`TopUpConsumer`.

    FastStream builds every subscriber's consumer with the builder its broker config holds
    once connected (``partial(AIOKafkaConsumer, **options)``, faststream 0.7.8, pinned);
    the same options now build a TopUpConsumer. ``top_up_ms`` (0: never) is both its wait
    and the age beyond which a batch is topped up. tests/integration/test_consuming.py
    checks that the services' subscribers get one."""

    def __init__(self, *args: Any, top_up_ms: int = TOP_UP_MS, **options: Any) -> None:
        super().__init__(*args, **options)
        self._top_up_ms = top_up_ms

    async def _connect(self) -> Callable[..., AIOKafkaConsumer]:
        built = await super()._connect()
        if not isinstance(built, partial):
            raise TypeError(f"faststream's consumer builder changed: {built!r}")
        ms = self._top_up_ms
        topped_up = partial(
            TopUpConsumer, *built.args, top_up_after_ms=ms, top_up_ms=ms, **built.keywords
        )
        self.config.broker_config.builder = topped_up
        return topped_up
