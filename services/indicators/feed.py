"""Publishing unit status records on ``gender-equality.indicators.v1`` (contract section 4)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from shared.contract import INDICATORS_TOPIC
from shared.envelope import new_event
from shared.kafka import OutgoingRecord, Producer, event_record, send_all
from shared.outbound import INDICATORS_EVENT_TYPE, UnitIndicators
from shared.store import Document

SOURCE = "parity/indicators"


def indicator_record(content: Document, *, version: int, as_of: datetime) -> OutgoingRecord:
    """One feed record; the data is checked against the contract."""
    local = as_of.isoformat()
    data = UnitIndicators.model_validate({**content, "as_of": local, "version": version})
    event = new_event(
        source=SOURCE,
        type_=INDICATORS_EVENT_TYPE,
        subject=data.unit_id,
        time=as_of,
        data=data.model_dump(mode="json"),
        event_id=f"{data.unit_id}:{version}",
    )
    return event_record(INDICATORS_TOPIC, event)


class RecordSink(Protocol):
    """Where a batch's records go (the feed on Kafka; a list in tests)."""

    async def publish(self, records: Sequence[OutgoingRecord]) -> None: ...


class IndicatorFeed:
    """Sends a batch of records and returns once Kafka has every one of them."""

    def __init__(self, *, producer: Producer) -> None:
        self._producer = producer

    async def publish(self, records: Sequence[OutgoingRecord]) -> None:
        await send_all(self._producer, records)
