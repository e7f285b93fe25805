"""shared.contract against CONTRACT.md: topics, event types, payload fields and value sets.

The expectations below are copied from the contract's tables on purpose: they are the
independent statement the code is checked against.
"""

from __future__ import annotations

from enum import StrEnum

import pytest
from pydantic import BaseModel, ValidationError

from shared.contract import (
    EVENT_TYPES,
    INBOUND_TOPICS,
    INDICATORS_TOPIC,
    INSPECTIONS_TOPIC,
    NOTIFICATIONS_TOPIC,
    PERSONNEL_TOPIC,
    UNITS_TOPIC,
    Gender,
    InspectionKind,
    InspectionTopic,
    LeavingReason,
    PersonUpdated,
    Role,
    Severity,
    StaffCategory,
    TrainingCategory,
    UnitDissolved,
    UnitLevel,
    UnitUpdated,
    dead_letter_topic,
    types_of_topic,
)
from shared.outbound import IndicatorValue, Notification, UnitIndicators
from tests.samples import OUTBOUND_TYPES, sample_payload

# type -> (topic, required data fields, optional data fields), from CONTRACT.md section 2.
CONTRACT_TYPES: dict[str, tuple[str, set[str], set[str]]] = {
    "hr.unit.registered": (UNITS_TOPIC, {"unit_id", "name", "parent_id", "level"}, set()),
    "hr.unit.updated": (UNITS_TOPIC, {"unit_id"}, {"name", "parent_id", "level"}),
    "hr.unit.merged": (UNITS_TOPIC, {"unit_id", "into_unit_id"}, set()),
    "hr.unit.dissolved": (UNITS_TOPIC, {"unit_id"}, set()),
    "hr.person.registered": (
        PERSONNEL_TOPIC,
        {"person_id", "gender", "ethnic_minority", "category", "unit_id"},
        {"birth_year"},
    ),
    "hr.person.updated": (
        PERSONNEL_TOPIC,
        set(),
        {"gender", "ethnic_minority", "category", "birth_year"},
    ),
    "hr.person.transferred": (PERSONNEL_TOPIC, {"unit_id"}, set()),
    "hr.person.left": (PERSONNEL_TOPIC, {"reason"}, set()),
    "hr.position.appointed": (PERSONNEL_TOPIC, {"unit_id", "role"}, {"decision_no"}),
    "hr.position.ended": (PERSONNEL_TOPIC, {"unit_id", "role"}, set()),
    "hr.planning.added": (PERSONNEL_TOPIC, {"unit_id", "role", "period"}, set()),
    "hr.planning.removed": (PERSONNEL_TOPIC, {"unit_id", "role", "period"}, set()),
    "hr.training.completed": (PERSONNEL_TOPIC, {"course_id", "category"}, set()),
    "inspection.planned": (
        INSPECTIONS_TOPIC,
        {
            "inspection_id",
            "title",
            "kind",
            "scope",
            "unit_ids",
            "lead_unit_id",
            "inter_sectoral",
            "planned_start",
            "planned_end",
        },
        set(),
    ),
    "inspection.started": (INSPECTIONS_TOPIC, set(), set()),
    "inspection.finding_recorded": (
        INSPECTIONS_TOPIC,
        {"finding_id", "unit_id", "severity", "topic", "summary"},
        set(),
    ),
    "inspection.recommendation_issued": (
        INSPECTIONS_TOPIC,
        {"recommendation_id", "unit_id", "summary", "due"},
        {"finding_id"},
    ),
    "inspection.recommendation_resolved": (
        INSPECTIONS_TOPIC,
        {"recommendation_id", "resolution"},
        set(),
    ),
    "inspection.closed": (INSPECTIONS_TOPIC, {"conclusion"}, set()),
    "inspection.cancelled": (INSPECTIONS_TOPIC, {"reason"}, set()),
}

CONTRACT_VALUES: list[tuple[type[StrEnum], set[str]]] = [
    (UnitLevel, {"province", "agency", "public_service_unit", "division"}),
    (Gender, {"female", "male"}),
    (StaffCategory, {"cadre", "civil_servant", "public_employee", "other"}),
    (Role, {"head", "deputy_head"}),
    (LeavingReason, {"retired", "resigned", "dismissed", "deceased", "other"}),
    (
        TrainingCategory,
        {
            "political_theory",
            "state_management",
            "leadership",
            "professional",
            "foreign_language",
            "it",
            "gender_equality",
            "other",
        },
    ),
    (InspectionKind, {"inspection", "examination", "supervision"}),
    (
        InspectionTopic,
        {"planning", "appointment", "training", "assignment", "gender_mainstreaming", "other"},
    ),
    (Severity, {"info", "minor", "major"}),
]


def test_event_types_are_exactly_the_contracts() -> None:
    assert set(EVENT_TYPES) == set(CONTRACT_TYPES)
    for event_type, row in EVENT_TYPES.items():
        assert row.type == event_type
        assert row.topic == CONTRACT_TYPES[event_type][0], event_type


def test_topics() -> None:
    assert (UNITS_TOPIC, PERSONNEL_TOPIC, INSPECTIONS_TOPIC) == (
        "hr.units.v1",
        "hr.personnel.v1",
        "inspections.v1",
    )
    assert set(INBOUND_TOPICS) == {UNITS_TOPIC, PERSONNEL_TOPIC, INSPECTIONS_TOPIC}
    assert INDICATORS_TOPIC == "gender-equality.indicators.v1"
    assert NOTIFICATIONS_TOPIC == "gender-equality.notifications.v1"
    assert dead_letter_topic(UNITS_TOPIC) == "hr.units.v1.dlq"


def test_types_of_topic_partitions_the_inbound_types() -> None:
    per_topic = [types_of_topic(topic) for topic in INBOUND_TOPICS]
    assert sum(len(types) for types in per_topic) == len(EVENT_TYPES)
    assert frozenset().union(*per_topic) == frozenset(EVENT_TYPES)
    assert "hr.unit.merged" in types_of_topic(UNITS_TOPIC)
    assert "hr.unit.merged" not in types_of_topic(PERSONNEL_TOPIC)
    assert types_of_topic(INDICATORS_TOPIC) == frozenset()


@pytest.mark.parametrize("event_type", sorted(CONTRACT_TYPES))
def test_payload_fields_are_the_contracts(event_type: str) -> None:
    _, required, optional = CONTRACT_TYPES[event_type]
    fields = EVENT_TYPES[event_type].payload.model_fields
    assert {name for name, field in fields.items() if field.is_required()} == required
    assert {name for name, field in fields.items() if not field.is_required()} == optional


@pytest.mark.parametrize(
    ("event_type", "subject_field"),
    [
        ("hr.unit.registered", "unit_id"),
        ("hr.unit.updated", "unit_id"),
        ("hr.unit.merged", "unit_id"),
        ("hr.unit.dissolved", "unit_id"),
        ("hr.person.registered", "person_id"),
        ("inspection.planned", "inspection_id"),
        ("hr.person.left", None),
        ("inspection.closed", None),
    ],
)
def test_subject_field(event_type: str, subject_field: str | None) -> None:
    assert EVENT_TYPES[event_type].subject_field == subject_field


@pytest.mark.parametrize(
    ("enum", "values"), CONTRACT_VALUES, ids=lambda x: getattr(x, "__name__", "")
)
def test_value_sets_are_the_contracts(enum: type[StrEnum], values: set[str]) -> None:
    assert {member.value for member in enum} == values


@pytest.mark.parametrize("event_type", sorted(CONTRACT_TYPES))
def test_every_payload_is_a_tolerant_reader(event_type: str) -> None:
    model = EVENT_TYPES[event_type].payload
    data = {**sample_payload(event_type), "x_source_specific": {"anything": [1, 2]}}
    assert model.model_validate(data) == model.model_validate(sample_payload(event_type))


def test_unit_updated_needs_a_change() -> None:
    with pytest.raises(ValidationError, match=r"at least one of name, parent_id, level"):
        UnitUpdated.model_validate({"unit_id": "U-1"})
    assert UnitUpdated.model_validate({"unit_id": "U-1", "level": "agency"}).level == "agency"


@pytest.mark.parametrize(
    "change",
    [{"gender": "male"}, {"ethnic_minority": False}, {"category": "other"}, {"birth_year": 1990}],
)
def test_person_updated_accepts_any_one_field_even_a_false_one(change: dict[str, object]) -> None:
    updated = PersonUpdated.model_validate(change)
    assert updated.model_fields_set == set(change)


def test_person_updated_needs_a_change() -> None:
    with pytest.raises(ValidationError, match=r"hr\.person\.updated needs at least one"):
        PersonUpdated.model_validate({"ethnic_minority": None, "unrelated": 1})


@pytest.mark.parametrize("birth_year", [1899, 2101])
def test_birth_year_bounds(birth_year: int) -> None:
    data = {**sample_payload("hr.person.registered"), "birth_year": birth_year}
    with pytest.raises(ValidationError):
        EVENT_TYPES["hr.person.registered"].payload.model_validate(data)


def test_inspection_dates_in_order() -> None:
    model = EVENT_TYPES["inspection.planned"].payload
    same_day = {**sample_payload("inspection.planned"), "planned_end": "2026-04-01"}
    assert model.model_validate(same_day)
    with pytest.raises(ValidationError, match="planned_end is before planned_start"):
        model.model_validate({**same_day, "planned_end": "2026-03-31"})


def test_inbound_payloads_are_immutable() -> None:
    payload = UnitDissolved.model_validate({"unit_id": "U-1"})
    with pytest.raises(ValidationError):
        payload.unit_id = "U-2"  # type: ignore[misc]


# --- outbound (section 4) --------------------------------------------------------------------


OUTBOUND_MODELS: list[tuple[str, type[BaseModel]]] = [
    ("parity.unit.indicators", UnitIndicators),
    ("parity.notification", Notification),
]


@pytest.mark.parametrize(("event_type", "model"), OUTBOUND_MODELS)
def test_outbound_samples_are_valid(event_type: str, model: type[BaseModel]) -> None:
    assert event_type in OUTBOUND_TYPES
    validated = model.model_validate(sample_payload(event_type))
    assert validated.model_dump(mode="json", exclude_unset=True) == sample_payload(event_type)


def test_indicator_value_of_a_count_has_a_null_denominator() -> None:
    count = IndicatorValue(value=3, numerator=3, denominator=None)
    assert count.model_dump()["denominator"] is None
    with pytest.raises(ValidationError):
        IndicatorValue.model_validate({"value": 0.5, "numerator": 1})  # denominator is required


def test_unit_indicators_version_starts_at_one() -> None:
    with pytest.raises(ValidationError):
        UnitIndicators.model_validate({**sample_payload("parity.unit.indicators"), "version": 0})


def test_notification_severity_is_the_contracts() -> None:
    data = sample_payload("parity.notification")
    for severity in ("info", "warning", "critical"):
        assert Notification.model_validate({**data, "severity": severity}).severity == severity
    with pytest.raises(ValidationError):
        Notification.model_validate({**data, "severity": "major"})
