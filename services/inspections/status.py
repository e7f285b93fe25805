"""Publishing each unit's own inspection status (``parity.inspections.status.v1``).

One ``parity.unit.inspection_status`` event per change of a unit's own status, keyed by the
unit, with the event id ``<unit_id>:<revision>``: a re-send after a crash is the same event,
and a consumer keeps the highest revision per unit.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from shared.clock import Clock
from shared.envelope import encode_structured, new_event
from shared.internal import INSPECTION_STATUS_TOPIC, UNIT_INSPECTION_STATUS, UnitInspectionStatus

INSPECTIONS_SOURCE = "parity/inspections"


class StatusSink(Protocol):
    async def publish(self, statuses: list[UnitInspectionStatus]) -> None: ...


class Producer(Protocol):
    async def send(
        self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[Any]: ...


class KafkaStatusSink:
    """Sends a batch of unit statuses and waits until Kafka has every one of them."""

    def __init__(self, *, producer: Producer, clock: Clock) -> None:
        self._producer = producer
        self._clock = clock

    async def publish(self, statuses: list[UnitInspectionStatus]) -> None:
        now = self._clock.now()
        pending = []
        for status in statuses:
            event = new_event(
                source=INSPECTIONS_SOURCE,
                type_=UNIT_INSPECTION_STATUS,
                subject=status.unit_id,
                time=now,
                data=status.model_dump(mode="json"),
                event_id=f"{status.unit_id}:{status.revision}",
            )
            value, headers = encode_structured(event)
            pending.append(
                await self._producer.send(
                    INSPECTION_STATUS_TOPIC,
                    value=value,
                    key=status.unit_id.encode(),
                    headers=headers,
                )
            )
        await asyncio.gather(*pending)
