"""What every service's composition root shares: decoding a batch with dead letters,
the HTTP side (``/metrics``, ``/health``) and running the app under uvicorn."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.kafka import KafkaBroker
from prometheus_client import make_asgi_app

from shared.dead_letters import DeadLetters
from shared.envelope import InboundEvent, PoisonRecord, decode_record
from shared.metrics import ServiceMetrics

log = logging.getLogger("parity")

HealthCheck = Callable[[], Awaitable[bool]]


class Record(Protocol):
    """The part of aiokafka's ConsumerRecord the services read."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]
    timestamp: int


def records_of(raw_message: Any) -> tuple[Record, ...]:
    """FastStream hands a batch subscriber a tuple of records, a single one otherwise."""
    return tuple(raw_message) if isinstance(raw_message, tuple) else (raw_message,)


async def decode_batch(
    records: Sequence[Record], *, dead_letters: DeadLetters
) -> list[tuple[InboundEvent, Record]]:
    """Valid events of a batch, in order; every poison record is on its DLQ before this returns."""
    valid = []
    for record in records:
        try:
            valid.append((decode_record(record.topic, record.value, record.headers), record))
        except PoisonRecord as poison:
            log.warning("dead letter from %s: %s", record.topic, poison)
            await dead_letters.send(
                topic=record.topic,
                key=record.key,
                value=record.value,
                headers=record.headers,
                kind=poison.kind,
                reason=str(poison),
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


def run(app: AsgiFastStream, *, host: str, port: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(app.run(run_extra_options={"host": host, "port": port}))


async def every(interval: float, action: Callable[[], Awaitable[None]], *, name: str) -> None:
    """Run ``action`` every ``interval`` seconds until cancelled; a failure is logged with its
    traceback and the action runs again at the next tick (the work it missed is still due)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await action()
        except Exception:
            log.exception("%s failed; retrying in %.1f s", name, interval)
