"""The public contract (../shared/CONTRACT.md) in code: topics, event types and their payloads.

Every inbound payload is a tolerant reader (unknown fields are ignored); every field the
contract names is validated. ``EVENT_TYPES`` maps each event type to its topic and model,
and is what the envelope decoder and the schema generator read.
"""

from __future__ import annotations

import builtins
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=2000)]
Period = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{4}$")]

# Dates and times outside these years are refused on input. Python's calendar ends at
# 0001 and 9999, and arithmetic near them (a due date of 9999-12-31 plus a day, a time of
# 0001-01-01T03:00+07:00 in UTC) would raise later, inside a handler, where a record that
# cannot be applied would stop its partition instead of going to the dead-letter topic.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999


def check_year(year: int) -> None:
    """ValueError unless ``year`` is between EARLIEST_YEAR and LATEST_YEAR."""
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise ValueError(f"the year must be between {EARLIEST_YEAR} and {LATEST_YEAR}")


def plausible_year(value: date) -> date:
    """A date (or datetime) whose year is between EARLIEST_YEAR and LATEST_YEAR."""
    check_year(value.year)
    return value


CalendarDate = Annotated[
    date,
    AfterValidator(plausible_year),
    Field(description=f"a date in the years {EARLIEST_YEAR} to {LATEST_YEAR}"),
]

# Topics (contract sections 2 and 4).
UNITS_TOPIC = "hr.units.v1"
PERSONNEL_TOPIC = "hr.personnel.v1"
INSPECTIONS_TOPIC = "inspections.v1"
INDICATORS_TOPIC = "gender-equality.indicators.v1"
NOTIFICATIONS_TOPIC = "gender-equality.notifications.v1"
INBOUND_TOPICS = (UNITS_TOPIC, PERSONNEL_TOPIC, INSPECTIONS_TOPIC)


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


class UnitLevel(StrEnum):
    PROVINCE = "province"
    AGENCY = "agency"
    PUBLIC_SERVICE_UNIT = "public_service_unit"
    DIVISION = "division"  # cấp phòng và tương đương; phòng, khoa


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"


class StaffCategory(StrEnum):
    CADRE = "cadre"  # cán bộ
    CIVIL_SERVANT = "civil_servant"  # công chức
    PUBLIC_EMPLOYEE = "public_employee"  # viên chức
    OTHER = "other"


class Role(StrEnum):
    HEAD = "head"  # cấp trưởng
    DEPUTY_HEAD = "deputy_head"  # cấp phó


class LeavingReason(StrEnum):
    RETIRED = "retired"
    RESIGNED = "resigned"
    DISMISSED = "dismissed"
    DECEASED = "deceased"
    OTHER = "other"


class TrainingCategory(StrEnum):
    POLITICAL_THEORY = "political_theory"
    STATE_MANAGEMENT = "state_management"
    LEADERSHIP = "leadership"
    PROFESSIONAL = "professional"
    FOREIGN_LANGUAGE = "foreign_language"
    IT = "it"
    GENDER_EQUALITY = "gender_equality"
    OTHER = "other"


class InspectionKind(StrEnum):
    INSPECTION = "inspection"  # thanh tra
    EXAMINATION = "examination"  # kiểm tra
    SUPERVISION = "supervision"  # giám sát


class InspectionTopic(StrEnum):
    PLANNING = "planning"
    APPOINTMENT = "appointment"
    TRAINING = "training"
    ASSIGNMENT = "assignment"
    GENDER_MAINSTREAMING = "gender_mainstreaming"
    OTHER = "other"


class Severity(StrEnum):
    INFO = "info"
    MINOR = "minor"
    MAJOR = "major"


class Payload(BaseModel):
    """Base of every inbound payload: a tolerant reader that still validates what it knows."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def _require_any(values: Any, fields: tuple[str, ...], type_name: str) -> Any:
    if isinstance(values, dict) and not any(values.get(f) is not None for f in fields):
        raise ValueError(f"{type_name} needs at least one of {', '.join(fields)}")
    return values


# --- hr.units.v1 (subject = unit_id) -------------------------------------------------------


class UnitRegistered(Payload):
    unit_id: Identifier
    name: Name
    parent_id: Identifier | None
    level: UnitLevel


class UnitUpdated(Payload):
    unit_id: Identifier
    name: Name | None = None
    parent_id: Identifier | None = None
    level: UnitLevel | None = None

    @model_validator(mode="before")
    @classmethod
    def _some_change(cls, values: Any) -> Any:
        return _require_any(values, ("name", "parent_id", "level"), "hr.unit.updated")


class UnitMerged(Payload):
    unit_id: Identifier
    into_unit_id: Identifier


class UnitDissolved(Payload):
    unit_id: Identifier


# --- hr.personnel.v1 (subject = person_id) -------------------------------------------------


class PersonRegistered(Payload):
    person_id: Identifier
    gender: Gender
    ethnic_minority: bool
    category: StaffCategory
    unit_id: Identifier
    birth_year: int | None = Field(default=None, ge=1900, le=2100)


class PersonUpdated(Payload):
    gender: Gender | None = None
    ethnic_minority: bool | None = None
    category: StaffCategory | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)

    @model_validator(mode="before")
    @classmethod
    def _some_change(cls, values: Any) -> Any:
        fields = ("gender", "ethnic_minority", "category", "birth_year")
        return _require_any(values, fields, "hr.person.updated")


class PersonTransferred(Payload):
    unit_id: Identifier


class PersonLeft(Payload):
    reason: LeavingReason


class PositionAppointed(Payload):
    unit_id: Identifier
    role: Role
    decision_no: Annotated[str, StringConstraints(max_length=100)] | None = None


class PositionEnded(Payload):
    unit_id: Identifier
    role: Role


class PlanningAdded(Payload):
    """Entry into the succession-planning pool (quy hoạch) for a role of a unit."""

    unit_id: Identifier
    role: Role
    period: Period


class PlanningRemoved(Payload):
    unit_id: Identifier
    role: Role
    period: Period


class TrainingCompleted(Payload):
    course_id: Identifier
    category: TrainingCategory


# --- inspections.v1 (subject = inspection_id) ----------------------------------------------


class InspectionPlanned(Payload):
    inspection_id: Identifier
    title: Name
    kind: InspectionKind
    scope: list[InspectionTopic] = Field(min_length=1)
    unit_ids: list[Identifier] = Field(min_length=1)
    lead_unit_id: Identifier
    inter_sectoral: bool
    planned_start: CalendarDate
    planned_end: CalendarDate

    @model_validator(mode="after")
    def _dates_in_order(self) -> InspectionPlanned:
        if self.planned_end < self.planned_start:
            raise ValueError("planned_end is before planned_start")
        return self


class InspectionStarted(Payload):
    pass


class FindingRecorded(Payload):
    finding_id: Identifier
    unit_id: Identifier
    severity: Severity
    topic: InspectionTopic
    summary: Text


class RecommendationIssued(Payload):
    recommendation_id: Identifier
    unit_id: Identifier
    finding_id: Identifier | None = None
    summary: Text
    due: CalendarDate


class RecommendationResolved(Payload):
    recommendation_id: Identifier
    resolution: Text


class InspectionClosed(Payload):
    conclusion: Text


class InspectionCancelled(Payload):
    reason: Text


class EventType(BaseModel):
    """One row of the contract's event tables."""

    model_config = ConfigDict(frozen=True)

    type: str
    topic: str
    payload: builtins.type[Payload]
    subject_field: str | None  # the data field that must equal the subject, if any


def _row(type_: str, topic: str, payload: type[Payload], subject_field: str | None) -> EventType:
    return EventType(type=type_, topic=topic, payload=payload, subject_field=subject_field)


EVENT_TYPES: dict[str, EventType] = {
    row.type: row
    for row in (
        _row("hr.unit.registered", UNITS_TOPIC, UnitRegistered, "unit_id"),
        _row("hr.unit.updated", UNITS_TOPIC, UnitUpdated, "unit_id"),
        _row("hr.unit.merged", UNITS_TOPIC, UnitMerged, "unit_id"),
        _row("hr.unit.dissolved", UNITS_TOPIC, UnitDissolved, "unit_id"),
        _row("hr.person.registered", PERSONNEL_TOPIC, PersonRegistered, "person_id"),
        _row("hr.person.updated", PERSONNEL_TOPIC, PersonUpdated, None),
        _row("hr.person.transferred", PERSONNEL_TOPIC, PersonTransferred, None),
        _row("hr.person.left", PERSONNEL_TOPIC, PersonLeft, None),
        _row("hr.position.appointed", PERSONNEL_TOPIC, PositionAppointed, None),
        _row("hr.position.ended", PERSONNEL_TOPIC, PositionEnded, None),
        _row("hr.planning.added", PERSONNEL_TOPIC, PlanningAdded, None),
        _row("hr.planning.removed", PERSONNEL_TOPIC, PlanningRemoved, None),
        _row("hr.training.completed", PERSONNEL_TOPIC, TrainingCompleted, None),
        _row("inspection.planned", INSPECTIONS_TOPIC, InspectionPlanned, "inspection_id"),
        _row("inspection.started", INSPECTIONS_TOPIC, InspectionStarted, None),
        _row("inspection.finding_recorded", INSPECTIONS_TOPIC, FindingRecorded, None),
        _row("inspection.recommendation_issued", INSPECTIONS_TOPIC, RecommendationIssued, None),
        _row(
            "inspection.recommendation_resolved",
            INSPECTIONS_TOPIC,
            RecommendationResolved,
            None,
        ),
        _row("inspection.closed", INSPECTIONS_TOPIC, InspectionClosed, None),
        _row("inspection.cancelled", INSPECTIONS_TOPIC, InspectionCancelled, None),
    )
}


def types_of_topic(topic: str) -> frozenset[str]:
    return frozenset(t for t, row in EVENT_TYPES.items() if row.topic == topic)
