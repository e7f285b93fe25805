"""Decoding the records the service consumes; what cannot be decoded goes to ``<topic>.dlq``
(``shared.service.decode_batch``).

``gender-equality.indicators.v1`` carries ``parity.unit.indicators`` events (contract
section 4); the internal topics carry Parity's change events (``shared.internal``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import ValidationError

from shared.envelope import PoisonRecord, decode_envelope, validation_reason
from shared.internal import decode_change
from shared.outbound import INDICATORS_EVENT_TYPE, UnitIndicators
from shared.service import Record

T = TypeVar("T")


def decode_indicators(record: Record) -> UnitIndicators:
    """A record of the indicator feed, in either binding (contract section 1)."""
    event = decode_envelope(record.value, record.headers)
    if event.type != INDICATORS_EVENT_TYPE:
        raise PoisonRecord("unknown_type", f"unknown type {event.type!r}")
    try:
        status = UnitIndicators.model_validate(event.data)
    except ValidationError as error:
        reason = validation_reason(f"data of {event.type} is invalid", error)
        raise PoisonRecord("invalid_data", reason) from None
    if status.unit_id != event.subject:
        raise PoisonRecord("invalid_data", f"subject {event.subject!r} differs from unit_id")
    return status


def change_decoder(model: type[T]) -> Callable[[bytes | None], T]:
    """A decoder of one kind of internal change (``shared.internal.decode_change``)."""

    def decode(value: bytes | None) -> T:
        change = decode_change(value)
        if not isinstance(change, model):
            raise PoisonRecord("unknown_type", f"not a {model.__name__} record")
        return change

    return decode
