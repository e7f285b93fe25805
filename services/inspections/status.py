"""Publishing each unit's own inspection status (``parity.inspections.status.v1``).

One ``parity.unit.inspection_status`` event per change of a unit's own status, keyed by the
unit, with the event id ``<unit_id>:<revision>``: a re-send after a crash is the same event,
and a consumer keeps the highest revision per unit.
"""

from __future__ import annotations

from typing import Protocol

from shared.clock import Clock
from shared.envelope import new_event
from shared.internal import INSPECTION_STATUS_TOPIC, UNIT_INSPECTION_STATUS, UnitInspectionStatus
from shared.kafka import Producer, event_record, send_all

INSPECTIONS_SOURCE = "parity/inspections"


class StatusSink(Protocol):
    async def publish(self, statuses: list[UnitInspectionStatus]) -> None: ...


class KafkaStatusSink:
    """Sends a batch of unit statuses and waits until Kafka has every one of them."""

    def __init__(self, *, producer: Producer, clock: Clock) -> None:
        self._producer = producer
        self._clock = clock

    async def publish(self, statuses: list[UnitInspectionStatus]) -> None:
        now = self._clock.now()
        await send_all(
            self._producer,
            [
                event_record(
                    INSPECTION_STATUS_TOPIC,
                    new_event(
                        source=INSPECTIONS_SOURCE,
                        type_=UNIT_INSPECTION_STATUS,
                        subject=status.unit_id,
                        time=now,
                        data=status.model_dump(mode="json"),
                        event_id=f"{status.unit_id}:{status.revision}",
                    ),
                )
                for status in statuses
            ],
        )
