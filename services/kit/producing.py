"""Sending checked records to Kafka with an idempotent producer and waiting for every ack.

The producer is :func:`shared.kafka.make_producer` (acks from all in-sync replicas,
idempotence on), so a retried batch is never written twice and records of one key keep
their order. Topics are not created here: Parity's services (or ``parity-topics``) own that;
a missing topic is a clear error before anything is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from types import TracebackType

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from services.kit.records import OutboundRecord
from shared.kafka import make_producer
from shared.settings import KafkaSettings

WINDOW = 2000  # records in flight before we wait for their acks


class ProduceError(Exception):
    """Kafka could not be reached or did not take a record; ``acked`` records were written."""

    def __init__(self, message: str, acked: int) -> None:
        super().__init__(message)
        self.acked = acked


def kafka_settings() -> KafkaSettings:
    """Kafka settings from ``PARITY_KAFKA_*``; a bad value is a :class:`ProduceError`."""
    try:
        return KafkaSettings()
    except ValidationError as error:
        raise ProduceError(f"invalid PARITY_KAFKA_* settings: {error}", 0) from None


class KafkaSender:
    """``async with KafkaSender(...) as sender``: send, then :meth:`flush` for every ack."""

    def __init__(
        self,
        settings: KafkaSettings,
        *,
        on_acked: Callable[[int], None] = lambda count: None,
        connect_timeout: float = 15.0,
    ) -> None:
        self._settings = settings
        self._topics: set[str] = set()  # topics seen to exist
        self._on_acked = on_acked
        self._connect_timeout = connect_timeout
        self._producer: AIOKafkaProducer | None = None
        self._in_flight: list[asyncio.Future[object]] = []
        self.acked = 0

    async def __aenter__(self) -> KafkaSender:
        producer = make_producer(self._settings, service="kit")
        try:
            await asyncio.wait_for(producer.start(), self._connect_timeout)
        except (KafkaError, OSError, TimeoutError) as error:
            await producer.stop()
            where = self._settings.bootstrap_servers
            raise ProduceError(f"cannot connect to Kafka at {where}: {error!r}", 0) from error
        self._producer = producer
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self._close()

    async def _close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def _check_topic(self, producer: AIOKafkaProducer, topic: str) -> None:
        if topic in self._topics:
            return
        try:
            await asyncio.wait_for(producer.partitions_for(topic), self._connect_timeout)
        except (KafkaError, TimeoutError):
            where = self._settings.bootstrap_servers
            raise ProduceError(f"topic {topic} does not exist on {where}", self.acked) from None
        self._topics.add(topic)

    async def send(self, record: OutboundRecord) -> None:
        if self._producer is None:
            raise RuntimeError("KafkaSender is not started")
        await self._check_topic(self._producer, record.topic)
        try:
            future = await self._producer.send(
                record.topic, value=record.value, key=record.key, headers=list(record.headers)
            )
        except KafkaError as error:
            raise ProduceError(f"{record.topic}: send failed: {error!r}", self.acked) from error
        self._in_flight.append(future)
        if len(self._in_flight) >= WINDOW:
            await self.flush()

    async def send_all(self, records: Iterable[OutboundRecord]) -> None:
        for record in records:
            await self.send(record)
        await self.flush()

    async def flush(self) -> None:
        """Wait until every record sent so far is acknowledged."""
        in_flight, self._in_flight = self._in_flight, []
        outcomes = await asyncio.gather(*in_flight, return_exceptions=True)
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        written = len(outcomes) - len(failures)
        self.acked += written
        self._on_acked(written)
        if failures:
            raise ProduceError(
                f"{len(failures)} record(s) were not written: {failures[0]!r}", self.acked
            ) from failures[0]
