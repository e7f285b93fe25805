"""A subject's event history: what was received, in the order it takes effect.

Order is by effective ``time``, then ``sequence`` (events without one after those with
one), then arrival (contract section 3). A redelivered event has the same ``key``
(source and id) and is recognised by it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.envelope import InboundEvent


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    key: str  # source and id: the idempotency key
    type: str
    time: datetime  # effective time, UTC
    sequence: int | None
    arrival: int  # position of first arrival among this subject's events
    data: dict[str, Any]

    def order(self) -> tuple[datetime, bool, int, int]:
        return (self.time, self.sequence is None, self.sequence or 0, self.arrival)


def entry_from_event(event: InboundEvent, arrival: int) -> HistoryEntry:
    return HistoryEntry(
        key=event.key,
        type=event.type,
        time=event.time,
        sequence=event.sequence,
        arrival=arrival,
        data=event.payload.model_dump(mode="json", exclude_none=True),
    )


def merge_into_history(
    history: Sequence[HistoryEntry], events: Iterable[InboundEvent]
) -> tuple[list[HistoryEntry], list[InboundEvent]]:
    """Add new events to a history; returns the new history and the events that were duplicates."""
    seen = {entry.key for entry in history}
    merged = list(history)
    duplicates = []
    for event in events:
        if event.key in seen:
            duplicates.append(event)
            continue
        seen.add(event.key)
        merged.append(entry_from_event(event, arrival=len(merged)))
    return merged, duplicates


def applied_of(
    events: Iterable[InboundEvent], duplicates: Sequence[InboundEvent]
) -> list[InboundEvent]:
    """The events a merge applied: all but the duplicates it returned, told apart by
    identity (two equal copies in one batch are one applied event and one duplicate)."""
    repeated = {id(event) for event in duplicates}
    return [event for event in events if id(event) not in repeated]


def in_effect(history: Iterable[HistoryEntry], now: datetime) -> list[HistoryEntry]:
    """The entries whose time has come, in effective order."""
    return sorted((e for e in history if e.time <= now), key=HistoryEntry.order)


def next_due(history: Iterable[HistoryEntry], now: datetime) -> datetime | None:
    """When the earliest future-dated entry takes effect (None if none waits)."""
    return min((e.time for e in history if e.time > now), default=None)
