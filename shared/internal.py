"""Internal topics between Parity's services (not part of the public contract).

The personnel service publishes the derived state of every person and unit that changed,
with its revision. Each event carries the whole current state of its subject, so a
consumer needs no other read, and a redelivery or a re-publication is recognised by
``revision``.

- ``parity.personnel.people.v1``: ``parity.person.changed``, keyed by person id.
- ``parity.personnel.units.v1``: ``parity.unit.changed``, keyed by unit id, one partition,
  kept forever: a consumer reads it from the beginning when it starts and keeps the highest
  revision of each unit, which is the whole organisation (unit changes are few: hundreds
  to thousands of records a year). Not compacted: compaction keeps a key's last record,
  which need not be its newest revision (shared/topics.py internal_topics).
- ``parity.inspections.status.v1``: ``parity.unit.inspection_status``, keyed by unit id:
  the inspection facts of one unit (its own, not its subtree's).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from shared.contract import Identifier, plausible_year
from shared.envelope import CloudEvent, PoisonRecord, validation_reason

PEOPLE_CHANGES_TOPIC = "parity.personnel.people.v1"
UNIT_CHANGES_TOPIC = "parity.personnel.units.v1"
INSPECTION_STATUS_TOPIC = "parity.inspections.status.v1"
PERSON_CHANGED = "parity.person.changed"
UNIT_CHANGED = "parity.unit.changed"
UNIT_INSPECTION_STATUS = "parity.unit.inspection_status"
PERSONNEL_SOURCE = "parity/personnel"


class _Fact(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class PositionFact(_Fact):
    unit_id: Identifier
    role: str
    since: str


class PlanningFact(_Fact):
    unit_id: Identifier
    role: str
    period: str
    since: str


class TrainingFact(_Fact):
    course_id: str
    category: str
    completed_at: str


class AppointmentFact(_Fact):
    unit_id: Identifier
    role: str
    time: str


class AnomalyFact(_Fact):
    kind: str
    event_key: str
    detail: str


class PersonChanged(_Fact):
    person_id: Identifier
    revision: int
    registered: bool
    active: bool
    gender: str | None
    ethnic_minority: bool
    category: str | None
    home_unit_id: Identifier | None
    left_reason: str | None
    positions: list[PositionFact]
    planning_entries: list[PlanningFact]
    trainings: list[TrainingFact]
    appointments: list[AppointmentFact]
    anomalies: list[AnomalyFact]
    pending_units: list[Identifier]


class UnitChanged(_Fact):
    unit_id: Identifier
    revision: int
    registered: bool
    name: str | None
    level: str | None
    parent_id: str | None
    path: list[str]
    active: bool
    valid_from: str | None
    valid_to: str | None
    closure: str | None
    merged_into: str | None
    pending_parent: str | None
    anomalies: list[AnomalyFact]


def _iso_date(value: str) -> str:
    """A YYYY-MM-DD date in the years the contract accepts, kept as the string it came as."""
    if len(value) != 10:
        raise ValueError("due must be a date, YYYY-MM-DD")
    plausible_year(date.fromisoformat(value))  # fromisoformat raises ValueError for a non-date
    return value


class OpenRecommendation(_Fact):
    recommendation_id: Identifier
    inspection_id: Identifier
    due: Annotated[str, AfterValidator(_iso_date)]  # ISO date (YYYY-MM-DD), as issued
    overdue: bool  # the due date has passed (judged by the inspections service's clock)


class UnitInspectionStatus(_Fact):
    """The inspection facts of one unit (its own, not its subtree's), as they stand.

    The inspections service marks a recommendation overdue when its due date passes (its
    clock, local date in Asia/Ho_Chi_Minh) and publishes that like any other change.
    "Inspected in year Y" is ``Y in inspected_years``, judged by the consumer's clock.
    """

    unit_id: Identifier
    revision: int  # rises by one with every change of this unit's status
    open_recommendations: list[OpenRecommendation]
    # Local calendar years of ``planned_start`` of the non-cancelled inspections covering it.
    inspected_years: list[int]


InternalChange = PersonChanged | UnitChanged | UnitInspectionStatus
_CHANGE_MODELS: dict[str, type[PersonChanged] | type[UnitChanged] | type[UnitInspectionStatus]] = {
    PERSON_CHANGED: PersonChanged,
    UNIT_CHANGED: UnitChanged,
    UNIT_INSPECTION_STATUS: UnitInspectionStatus,
}


def decode_change(value: bytes | None) -> InternalChange:
    """The change carried by one record of an internal topic (structured CloudEvent).

    Raises :class:`shared.envelope.PoisonRecord` for anything else: only Parity's services
    write these topics, so that is a bug upstream, and the record goes to ``<topic>.dlq``.
    """
    if value is None:
        raise PoisonRecord("no_value", "record has no value")
    try:
        event = CloudEvent.model_validate_json(value)
    except ValidationError as error:
        # the reason names fields, never their values: a person's data stays out of the
        # dead-letter headers and the log
        raise PoisonRecord(
            "invalid_envelope", validation_reason("not a valid CloudEvent", error)
        ) from None
    model = _CHANGE_MODELS.get(event.type)
    if model is None:
        raise PoisonRecord("unknown_type", f"unknown internal type {event.type!r}")
    try:
        return model.model_validate(event.data)
    except ValidationError as error:
        raise PoisonRecord(
            "invalid_data", validation_reason(f"data of {event.type} is invalid", error)
        ) from None
