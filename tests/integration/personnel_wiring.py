"""The personnel handlers wired on the real FerretDB with a list for the change topic, as
the service's composition root wires them with Kafka."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from services.personnel.changes import Change
from services.personnel.handlers import Collaborators
from services.personnel.store import PersonnelStore
from shared.clock import ManualClock
from shared.envelope import CloudEvent, InboundEvent, decode_record, encode_structured
from shared.metrics import make_metrics

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


class ListSink:
    def __init__(self) -> None:
        self.changes: list[Change] = []

    async def publish(self, changes: list[Change]) -> None:
        self.changes.extend(changes)


def inbound(topic: str, events: Iterable[CloudEvent]) -> dict[str, list[InboundEvent]]:
    """The events as the subscriber hands them to a handler: decoded, by subject."""
    by_subject: dict[str, list[InboundEvent]] = {}
    for event in events:
        value, headers = encode_structured(event)
        decoded = decode_record(topic, value, headers)
        by_subject.setdefault(decoded.subject, []).append(decoded)
    return by_subject


def collaborators(store: PersonnelStore, changes: ListSink | None = None) -> Collaborators:
    return Collaborators(
        store=store,
        changes=changes or ListSink(),
        clock=ManualClock(NOW),
        metrics=make_metrics("personnel"),
    )
