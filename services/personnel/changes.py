"""Publishing the personnel service's change events (see shared/internal.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from shared.clock import Clock
from shared.envelope import new_event
from shared.internal import (
    PEOPLE_CHANGES_TOPIC,
    PERSON_CHANGED,
    PERSONNEL_SOURCE,
    UNIT_CHANGED,
    UNIT_CHANGES_TOPIC,
    PersonChanged,
)
from shared.kafka import Producer, event_record, send_all

_PERSON_FIELDS = tuple(f for f in PersonChanged.model_fields if f not in ("person_id", "revision"))


@dataclass(frozen=True)
class Change:
    type: str
    subject: str
    revision: int
    data: dict[str, Any]


def person_change(person_id: str, revision: int, fields: dict[str, Any]) -> Change:
    data = {"person_id": person_id, "revision": revision}
    data.update({name: fields.get(name) for name in _PERSON_FIELDS})
    return Change(PERSON_CHANGED, person_id, revision, data)


def unit_change(unit_id: str, revision: int, fields: dict[str, Any]) -> Change:
    data = {"unit_id": unit_id, "revision": revision, **fields}
    data.pop("next_due", None)
    data.pop("parent_declarations", None)
    data["anomalies"] = [*data.get("anomalies", ()), *data.pop("placement_anomalies", ())]
    return Change(UNIT_CHANGED, unit_id, revision, data)


class ChangeSink(Protocol):
    async def publish(self, changes: list[Change]) -> None: ...


class KafkaChangeSink:
    """Sends a batch of changes and waits until Kafka has every one of them."""

    def __init__(self, *, producer: Producer, clock: Clock) -> None:
        self._producer = producer
        self._clock = clock

    async def publish(self, changes: list[Change]) -> None:
        now = self._clock.now()
        await send_all(
            self._producer,
            [
                event_record(
                    PEOPLE_CHANGES_TOPIC if c.type == PERSON_CHANGED else UNIT_CHANGES_TOPIC,
                    new_event(
                        source=PERSONNEL_SOURCE,
                        type_=c.type,
                        subject=c.subject,
                        time=now,
                        data=c.data,
                        event_id=f"{c.type}:{c.subject}:{c.revision}",
                    ),
                )
                for c in changes
            ],
        )
