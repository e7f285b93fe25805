"""Kafka factories: the FastStream broker, a raw producer; reading a partition to its end,
publishing records. (The topics themselves: shared/topics.py.)

Nothing connects at import time; every function takes the settings it needs.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator, Iterable
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from prometheus_client import CollectorRegistry

from shared.consuming import TopUpBroker
from shared.envelope import CloudEvent, encode_structured
from shared.settings import KafkaSettings


def topic_group(group_id: str, topic: str) -> str:
    """The consumer group in which a service reads ``topic`` on its own (a replica joining
    for one topic then does not pause the others)."""
    return f"{group_id}.{topic}"


def groups_per_topic(group_id: str, topics: Iterable[str]) -> dict[str, list[str]]:
    """:func:`topic_group` of each topic: group id → its topic."""
    return {topic_group(group_id, topic): [topic] for topic in topics}


def client_options(settings: KafkaSettings) -> dict[str, Any]:
    """Connection and security options shared by every aiokafka client."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": settings.security_protocol,
    }
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(cafile=settings.ssl_cafile)
        if settings.ssl_certfile:
            context.load_cert_chain(settings.ssl_certfile, settings.ssl_keyfile)
        options["ssl_context"] = context
    if settings.security_protocol.startswith("SASL"):
        if not (settings.sasl_mechanism and settings.sasl_username and settings.sasl_password):
            raise ValueError("SASL needs PARITY_KAFKA_SASL_MECHANISM, _USERNAME and _PASSWORD")
        options["sasl_mechanism"] = settings.sasl_mechanism
        options["sasl_plain_username"] = settings.sasl_username
        options["sasl_plain_password"] = settings.sasl_password.get_secret_value()
    return options


def broker_security(settings: KafkaSettings) -> BaseSecurity | None:
    """The same security options, in the form FastStream's broker takes them."""
    options = client_options(settings)
    context = options.get("ssl_context")
    use_ssl = settings.security_protocol in ("SSL", "SASL_SSL")
    if not settings.security_protocol.startswith("SASL"):
        return BaseSecurity(ssl_context=context) if use_ssl else None
    kinds: dict[str, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
        "PLAIN": SASLPlaintext,
        "SCRAM-SHA-256": SASLScram256,
        "SCRAM-SHA-512": SASLScram512,
    }
    return kinds[options["sasl_mechanism"]](
        options["sasl_plain_username"],
        options["sasl_plain_password"],
        ssl_context=context,
        use_ssl=use_ssl,
    )


def make_broker(
    settings: KafkaSettings, *, service: str, registry: CollectorRegistry
) -> KafkaBroker:
    """The FastStream broker of one service, with Prometheus metrics on every message; its
    batches take what the broker holds when they start (shared/consuming.py)."""
    return TopUpBroker(
        settings.bootstrap_servers,
        client_id=f"parity-{service}",
        security=broker_security(settings),
        log_level=logging.DEBUG,  # one access-log line per message is noise at this volume
        middlewares=[KafkaPrometheusMiddleware(registry=registry, app_name=service)],
        top_up_ms=settings.batch_top_up_ms,
    )


def make_producer(settings: KafkaSettings, *, service: str) -> AIOKafkaProducer:
    """A raw producer for what must keep exact bytes (dead letters) or be batched."""
    return AIOKafkaProducer(
        client_id=f"parity-{service}-producer",
        acks="all",
        enable_idempotence=True,
        # Every batch waits for its sends before it commits: a linger would be added to
        # each batch. Records sent while a request is in flight are still batched.
        linger_ms=0,
        max_request_size=4 * 1024 * 1024,
        **client_options(settings),
    )


async def records_to_end(
    consumer: AIOKafkaConsumer,
    partition: TopicPartition,
    *,
    chunk: int = 1000,
    until: int | None = None,
) -> AsyncIterator[list[ConsumerRecord[bytes, bytes]]]:
    """The records of an assigned partition from the consumer's position to the end the
    partition had when this began, ``chunk`` at most at a time; with ``until``, only those
    before that offset. (Without it the last chunk may hold records that came meanwhile.)"""
    end = (await consumer.end_offsets([partition]))[partition]
    if until is not None:
        end = min(end, until)
    while await consumer.position(partition) < end:
        batches = await consumer.getmany(partition, timeout_ms=500, max_records=chunk)
        for records in batches.values():
            yield records if until is None else [r for r in records if r.offset < until]


# --- publishing ----------------------------------------------------------------------------

OutgoingRecord = tuple[str, bytes, bytes, list[tuple[str, bytes]]]  # topic, key, value, headers


class Producer(Protocol):
    async def send(
        self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[Any]: ...


def event_record(topic: str, event: CloudEvent) -> OutgoingRecord:
    """A CloudEvent as a structured-mode record keyed by its subject."""
    value, headers = encode_structured(event)
    return topic, event.subject.encode(), value, headers


async def send_all(producer: Producer, records: Iterable[OutgoingRecord]) -> None:
    """Send the records and return once Kafka has acknowledged every one of them (a failure
    raises, and the caller's batch is retried before its offsets are committed)."""
    pending = [
        await producer.send(topic, value=value, key=key, headers=headers)
        for topic, key, value, headers in records
    ]
    await asyncio.gather(*pending)
