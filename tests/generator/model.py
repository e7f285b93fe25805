"""The generator's public types: a record to produce, a generated province, its shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from shared.envelope import CloudEvent

if TYPE_CHECKING:
    from tests.generator.inspections import InspectionLedger


@dataclass(frozen=True)
class Record:
    """One Kafka record, exactly as a producer publishes it."""

    topic: str  # hr.units.v1 | hr.personnel.v1 | inspections.v1
    key: bytes  # the subject, utf-8
    value: bytes | None
    headers: list[tuple[str, bytes]]
    poison: str | None  # None for a valid record, else the PoisonKind decode_record raises
    event: CloudEvent | None  # the valid event (None for poison)


@dataclass(frozen=True)
class Province:
    records: list[Record]  # in publication (arrival) order, the order to produce them
    now: datetime  # the clock the consumer must use (timezone-aware)
    root_unit_id: str
    inspections: InspectionLedger | None = None  # what the generator knows of its inspections

    def events(self) -> list[CloudEvent]:
        """The valid events in arrival order, redeliveries included."""
        return [record.event for record in self.records if record.event is not None]


@dataclass(frozen=True)
class ProvinceShape:
    """How big and how messy the province is. Rates are fractions of the valid events."""

    agencies: int = 12
    divisions_per_agency: tuple[int, int] = (3, 7)
    public_service_units_per_agency: tuple[int, int] = (0, 4)
    divisions_per_psu: tuple[int, int] = (2, 5)
    people_per_unit: tuple[int, int] = (3, 12)
    years: int = 5
    duplicate_rate: float = 0.02  # redelivered records (same id, same bytes), later
    backdated_rate: float = 0.02  # events arriving after later events of their subject
    reference_ahead_rate: float = 0.02  # events arriving before the unit they name
    future_rate: float = 0.01  # events effective after `now`, already published
    poison_rate: float = 0.005  # records for the dead-letter topic (one > 1 MiB at most)
    binary_mode_rate: float = 0.1  # valid records in the Kafka binary binding
    restructuring: bool = True  # the reorganisation of 2025-07-01
    anomalies: bool = True  # HR mistakes that change nothing; people left in a closed unit
    # inspections on inspections.v1 (kept out of repr: the event ids of the HR stream,
    # derived from the shape's repr, stay the same with or without them)
    inspections: bool = field(default=True, repr=False)
