"""Publishing unit status records on ``gender-equality.indicators.v1`` (contract section 4)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from shared.contract import INDICATORS_EVENT_TYPE, INDICATORS_TOPIC, UnitIndicators
from shared.envelope import encode_structured, new_event
from shared.store import Document

SOURCE = "parity/indicators"


class Producer(Protocol):
    async def send(
        self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[Any]: ...


def indicator_record(
    content: Document, *, version: int, as_of: datetime
) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) of one feed record; the data is checked against the contract."""
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
    value, headers = encode_structured(event)
    return data.unit_id.encode(), value, headers


class IndicatorFeed:
    """Sends a batch of records and returns once Kafka has every one of them."""

    def __init__(self, *, producer: Producer) -> None:
        self._producer = producer

    async def publish(
        self, records: Sequence[tuple[bytes, bytes, list[tuple[str, bytes]]]]
    ) -> None:
        pending = [
            await self._producer.send(INDICATORS_TOPIC, value=value, key=key, headers=headers)
            for key, value, headers in records
        ]
        await asyncio.gather(*pending)
