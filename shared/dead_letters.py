"""The dead-letter topic: a record that can never be processed goes to ``<topic>.dlq`` unchanged.

The original key, value and headers are kept byte for byte; ``parity_error`` (one line, why),
``parity_failed_at`` (RFC 3339) and ``parity_origin`` (``<topic>/<partition>/<offset>`` of
the record) are added. The send is awaited before the consumer commits past the record, so
a poison record is never silently dropped; a batch retried after a later failure sends its
poison records again, and ``parity_origin`` tells a reader of the dead-letter topic that it
has seen one already.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from prometheus_client import Counter

from shared.clock import Clock
from shared.contract import dead_letter_topic
from shared.envelope import one_line


class RecordSender(Protocol):
    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> Any: ...


class DeadLetters:
    def __init__(self, *, sender: RecordSender, clock: Clock, counter: Counter) -> None:
        self._sender = sender
        self._clock = clock
        self._counter = counter  # labels: topic, kind

    async def send(
        self,
        *,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]],
        kind: str,
        reason: str,
        origin: str | None = None,
    ) -> None:
        dead_headers = [
            *headers,
            ("parity_error", one_line(reason).encode()),
            ("parity_failed_at", self._clock.now().isoformat().encode()),
        ]
        if origin is not None:
            dead_headers.append(("parity_origin", origin.encode()))
        await self._sender.send_and_wait(
            dead_letter_topic(topic), value=value, key=key, headers=dead_headers
        )
        self._counter.labels(topic=topic, kind=kind).inc()
