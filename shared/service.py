"""What every service's composition root shares: its clients (MongoDB and a Kafka producer),
decoding a batch with dead letters, the HTTP side (``/metrics``, ``/health``) and running the
app under uvicorn."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar, overload

import uvicorn
from aiokafka import AIOKafkaProducer
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.kafka import KafkaBroker
from prometheus_client import make_asgi_app
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared.dead_letters import DeadLetters
from shared.envelope import InboundEvent, PoisonRecord, decode_record
from shared.failing import Failures
from shared.kafka import make_producer
from shared.metrics import ServiceMetrics
from shared.settings import ServiceSettings
from shared.store import Document, database, make_mongo_client, ping

log = logging.getLogger("parity")
T = TypeVar("T")

HealthCheck = Callable[[], Awaitable[bool]]


class Record(Protocol):
    """The part of aiokafka's ConsumerRecord the services read."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]
    timestamp: int


class Clients:
    """A service's MongoDB client and Kafka producer: opened on start-up (never at import or
    in ``build``), closed on shutdown, and what the ``store`` health check asks."""

    def __init__(self, settings: ServiceSettings, *, service: str) -> None:
        self._settings = settings
        self._service = service
        self._mongo: AsyncMongoClient[Document] | None = None
        self._producer: AIOKafkaProducer | None = None

    async def open(self) -> tuple[AsyncDatabase[Document], AIOKafkaProducer]:
        """Connect; returns the service's own database and the started producer."""
        settings = self._settings
        self._mongo = make_mongo_client(
            settings.mongodb_url.get_secret_value(), app_name=self._service
        )
        producer = self._producer = make_producer(settings.kafka, service=self._service)
        await producer.start()
        return database(self._mongo, settings.mongodb_database), producer

    async def close(self) -> None:
        """Stop the producer (it flushes what is pending), then close the MongoDB client."""
        if self._producer is not None:
            await self._producer.stop()
        if self._mongo is not None:
            await self._mongo.close()

    async def store_healthy(self) -> bool:
        return self._mongo is not None and await ping(self._mongo)


CANCEL_GRACE_SECONDS = 10.0
CANCEL_AGAIN_AFTER_SECONDS = 2.0


async def cancel_tasks(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the service's background tasks, wait until each has ended, and forget them.

    A task still running a while after its cancellation (something inside it turned the
    CancelledError into another error and it went on: PyMongo wraps one that reaches a
    connection into a connection failure) is cancelled again; one still running after
    ``CANCEL_GRACE_SECONDS`` is named in the log and left, so that a shutdown always ends.
    The while lets a task's own clean-up on cancellation (closing its clients) finish."""
    pending = set(tasks)
    deadline = asyncio.get_running_loop().time() + CANCEL_GRACE_SECONDS
    while pending and asyncio.get_running_loop().time() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=CANCEL_AGAIN_AFTER_SECONDS)
    if pending:
        log.error(
            "tasks still running after being cancelled: %s", sorted(t.get_name() for t in pending)
        )
    for task in tasks:
        error = None if not task.done() or task.cancelled() else task.exception()
        if error is not None:
            raise error
    tasks.clear()


def records_of(raw_message: Any) -> tuple[Record, ...]:
    """FastStream hands a batch subscriber a tuple of records, a single one otherwise."""
    return tuple(raw_message) if isinstance(raw_message, tuple) else (raw_message,)


def value_decoder(decode: Callable[[bytes | None], T]) -> Callable[[Record], T]:
    """A record decoder that reads only the record's value (``shared.internal.decode_change``)."""

    def decode_value(record: Record) -> T:
        return decode(record.value)

    return decode_value


def contract_event(record: Record) -> InboundEvent:
    """A record of a contract topic as an event (``shared.envelope.decode_record``)."""
    return decode_record(record.topic, record.value, record.headers)


@overload
async def decode_batch(
    records: Sequence[Record], *, dead_letters: DeadLetters
) -> list[tuple[InboundEvent, Record]]: ...


@overload
async def decode_batch(
    records: Sequence[Record], *, dead_letters: DeadLetters, decode: Callable[[Record], T]
) -> list[tuple[T, Record]]: ...


async def decode_batch(
    records: Sequence[Record],
    *,
    dead_letters: DeadLetters,
    decode: Callable[[Record], Any] = contract_event,
) -> list[tuple[Any, Record]]:
    """The decoded values of a batch with their records, in order; ``decode`` raises
    PoisonRecord for what it cannot read, and every such record is on its DLQ before this
    returns. By default, records of a contract topic decoded as events."""
    valid = []
    for record in records:
        try:
            valid.append((decode(record), record))
        except PoisonRecord as poison:
            log.warning("dead letter from %s: %s", record.topic, poison)
            await dead_letters.send(
                topic=record.topic,
                key=record.key,
                value=record.value,
                headers=record.headers,
                kind=poison.kind,
                reason=str(poison),
                origin=f"{record.topic}/{record.partition}/{record.offset}",
            )
    return valid


def observe_latency(metrics: ServiceMetrics, records: Sequence[Record]) -> None:
    now_ms = time.time() * 1000
    for record in records:
        metrics.processing_latency.observe(max(0.0, (now_ms - record.timestamp) / 1000))


def asgi_app(
    broker: KafkaBroker,
    *,
    metrics: ServiceMetrics,
    health_checks: dict[str, HealthCheck],
    on_startup: Sequence[Callable[[], Awaitable[None]]] = (),
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
) -> AsgiFastStream:
    @get(include_in_schema=False)
    async def health(scope: Any) -> AsgiResponse:
        results = {"kafka": await broker.ping(timeout=2.0)}
        for name, check in health_checks.items():
            results[name] = await check()
        body = ",".join(f'"{k}":{str(v).lower()}' for k, v in results.items())
        return AsgiResponse(("{" + body + "}").encode(), 200 if all(results.values()) else 503)

    return AsgiFastStream(
        broker,
        asgi_routes=[("/metrics", make_asgi_app(metrics.registry)), ("/health", health)],
        on_startup=list(on_startup),
        after_shutdown=list(on_shutdown),
    )


class BrokerEnded(SystemExit):
    """The app shut down without being asked: its broker failed (it could not start, say)."""


# What ``run`` logs when the broker could not start; a supervisor reads it as a refused start-up.
BROKER_NOT_STARTED = "the app's broker could not start (is Kafka reachable?); exiting"


# CPython's cyclic collector runs after every 700 new container objects, and each of its
# full collections walks every live object: a service holding a province (the indicator
# service's people and counters) pays for its size on every allocation-heavy batch.
# Measured in `make bench`'s process (three services and the generated records): with the
# default thresholds collections took 1.6 of 8.7 CPU seconds for the 30-agency province end
# to end and 38.3 of 125.8 for the 300-agency one; with these, 0.3 and 6.7, and end to end
# went from 1,082 to 1,309 and from 803 to 987 events/s. Garbage cycles live a little
# longer: 20,000 allocations at most between young collections.
COLLECTOR_THRESHOLDS = (20_000, 10, 10)


def tune_collector() -> None:
    """Process-wide: run the cyclic garbage collector less often (see above)."""
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def run(app: AsgiFastStream, *, host: str, port: int) -> None:
    """Serve the app under uvicorn until asked to stop; exit with an error if it cannot start
    or stops on its own.

    FastStream reports the ASGI start-up complete before its broker has started. A broker that
    then fails (Kafka went away between the start-up hooks and the consumers' start) ends the
    app's lifespan with that error, and FastStream's shutdown hooks run cancelled: the first
    one that awaits anything stops there. uvicorn logs the error and goes on serving
    ``/metrics`` and ``/health`` with no consumer behind them. So the end of the lifespan
    itself, not a hook, is watched: one that ends unasked stops the server, and the process
    exits with code 1, so that its supervisor starts it again."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    tune_collector()
    ended_unasked: list[bool] = []  # whether its brokers had started

    async def watched(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            return await app(scope, receive, send)
        try:
            await app(scope, receive, send)
        finally:
            if not server.should_exit:  # no signal asked for it
                ended_unasked.append(all(broker.running for broker in app.brokers))
                server.should_exit = True

    server = uvicorn.Server(uvicorn.Config(watched, host=host, port=port, log_level=logging.INFO))
    asyncio.run(server.serve())  # start-up hooks that fail: uvicorn exits with its code 3
    if ended_unasked:
        log.error("the app stopped on its own; exiting" if ended_unasked[0] else BROKER_NOT_STARTED)
        raise BrokerEnded(1)


async def every(
    interval: float,
    action: Callable[[], Awaitable[None]],
    *,
    name: str,
    failures: Failures | None = None,
) -> None:
    """Run ``action`` every ``interval`` seconds until cancelled; a failure is logged with its
    traceback and the action runs again at the next tick (the work it missed is still due).
    Each run is told to ``failures`` if given (counted, and in ``/health``: a sweep that does
    the service's work; the gauges' readings go without)."""
    while True:
        await asyncio.sleep(interval)
        failed = False
        try:
            await action()
        except Exception:
            log.exception("%s failed; retrying in %.1f s", name, interval)
            failed = True
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            # cancelled while the action ran, and something in it turned that into the error
            # just logged (PyMongo does): stop as asked, and count no failure
            raise asyncio.CancelledError
        if failures is not None:
            failures.sweep_ran(name, failed=failed)
