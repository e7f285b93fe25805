"""Planning an import: stable ids, parent-first units, refused rows that publish nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.kit.records import OutboundRecord
from services.kit.roster.plan import ImportOptions, ImportPlan, plan_import
from services.kit.roster.sheets import PERSON_COLUMNS, UNIT_COLUMNS, Roster, SheetRow
from shared.clock import VIETNAM
from shared.contract import PERSONNEL_TOPIC, UNITS_TOPIC
from shared.envelope import STRUCTURED_CONTENT_TYPE, decode_record

AS_OF = datetime(2026, 11, 1, 9, 0, tzinfo=VIETNAM)
OPTIONS = ImportOptions(source="parity-import", as_of=AS_OF)
UNITS = [
    ("U-3", "Phòng Công chức", "U-2", "division"),  # a child before its parent
    ("U-1", "UBND tỉnh", "", "province"),
    ("U-2", "Sở Nội vụ", "U-1", "agency"),
]
PERSON = ("P-1", "female", "yes", "civil_servant", "U-3", "1980", "head@U-3", "", "")


def rows(
    columns: tuple[str, ...], values: Sequence[tuple[str, ...]], first: int = 2
) -> list[SheetRow]:
    return [
        SheetRow(number, dict(zip(columns, row, strict=True)))
        for number, row in enumerate(values, start=first)
    ]


def roster(people: Sequence[tuple[str, ...]], units: Sequence[tuple[str, ...]] = UNITS) -> Roster:
    return Roster(units=rows(UNIT_COLUMNS, units), people=rows(PERSON_COLUMNS, people))


def event(record: OutboundRecord) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(record.value)
    return value


def subjects(records: list[OutboundRecord]) -> set[str]:
    return {record.key.decode() for record in records}


def reasons(plan: ImportPlan) -> dict[str, str]:
    return {r.where: r.reason for r in plan.rejections}


def test_a_roster_becomes_contract_events_units_parent_first() -> None:
    person = ("P-1", "female", "yes", "civil_servant", "U-3", "1980",
              "head@U-3; deputy_head@U-2@2022-07-01", "head@U-2@2021-2026",
              "leadership@2024-05-10")  # fmt: skip
    plan = plan_import(roster([person]), OPTIONS)
    assert plan.rejections == []
    assert [r.key for r in plan.unit_records] == [b"U-1", b"U-2", b"U-3"]
    assert all(r.topic == UNITS_TOPIC for r in plan.unit_records)
    assert all(r.topic == PERSONNEL_TOPIC and r.key == b"P-1" for r in plan.person_records)
    people = [event(r) for r in plan.person_records]
    assert [(e["type"], e["sequence"]) for e in people] == [
        ("hr.person.registered", "1"),
        ("hr.position.appointed", "2"),
        ("hr.position.appointed", "3"),
        ("hr.planning.added", "4"),
        ("hr.training.completed", "5"),
    ]
    assert people[0]["data"] == {
        "person_id": "P-1", "gender": "female", "ethnic_minority": True,
        "category": "civil_servant", "unit_id": "U-3", "birth_year": 1980,
    }  # fmt: skip
    assert people[4]["data"] == {"course_id": "leadership-2024-05-10", "category": "leadership"}
    # every record is what a consumer accepts, with the subject as key
    for record in plan.records:
        decoded = decode_record(record.topic, record.value, record.headers)
        assert decoded.subject.encode() == record.key
        assert dict(record.headers)["content-type"].decode().startswith(STRUCTURED_CONTENT_TYPE)


def test_times_the_epoch_precedes_the_earliest_dated_fact() -> None:
    positions = "head@U-3; deputy_head@U-2@2022-07-01"
    person = ("P-1", "female", "no", "civil_servant", "U-3", "", positions,
              "head@U-2@2021-2026", "leadership@2024-05-10")  # fmt: skip
    plan = plan_import(roster([person]), OPTIONS)
    times = {(e["type"], e["data"].get("role")): e["time"] for e in map(event, plan.records)}
    epoch = "2022-07-01T00:00:00+07:00"
    assert times[("hr.unit.registered", None)] == epoch
    assert times[("hr.person.registered", None)] == epoch
    assert times[("hr.position.appointed", "deputy_head")] == epoch
    assert times[("hr.position.appointed", "head")] == AS_OF.isoformat()
    assert times[("hr.planning.added", "head")] == AS_OF.isoformat()
    assert times[("hr.training.completed", None)] == "2024-05-10T00:00:00+07:00"

    undated = plan_import(roster([PERSON]), OPTIONS)
    assert {event(r)["time"] for r in undated.records} == {AS_OF.isoformat()}


def test_importing_again_later_yields_the_same_event_ids() -> None:
    first = plan_import(roster([PERSON]), OPTIONS)
    later = ImportOptions(source="parity-import", as_of=AS_OF + timedelta(days=30))
    again = plan_import(roster([PERSON]), later)
    assert [event(r)["id"] for r in first.records] == [event(r)["id"] for r in again.records]
    assert len({event(r)["id"] for r in first.records}) == len(first.records)
    other_source = plan_import(
        roster([PERSON]), ImportOptions(source="parity-import/x", as_of=AS_OF)
    )
    assert not {event(r)["id"] for r in first.records} & {
        event(r)["id"] for r in other_source.records
    }


def test_a_changed_attribute_keeps_the_registration_id() -> None:
    """The id names the fact (this person's registration), not its content: corrections after
    the bootstrap travel as hr.person.updated events, never as a second registration."""
    corrected = ("P-1", "male", *PERSON[2:])
    first = plan_import(roster([PERSON]), OPTIONS).person_records[0]
    second = plan_import(roster([corrected]), OPTIONS).person_records[0]
    assert event(first)["id"] == event(second)["id"]


@pytest.mark.parametrize(
    ("person", "reason"),
    [
        (("P-2", "other", "no", "civil_servant", "U-3", "", "", "", ""), "gender: unknown value"),
        (("P-2", "female", "no", "civil_servant", "U-9", "", "", "", ""),
         "unit U-9 is not in the units sheet nor given with --known-unit"),
        (("P-2", "female", "no", "civil_servant", "U-3", "", "head@U-8", "", ""),
         "unit U-8 is not"),
        (("P-2", "female", "no", "civil_servant", "U-3", "", "", "", "it@2024-02-31"),
         "not a date"),
        (("P-2", "female", "no", "civil_servant", "U-3", "", "head:U-3", "", ""),
         "positions: 'head:U-3' is not role@unit_id"),
        (("P-2", "female", "no", "civil_servant", "U-3", "", "", "", "it@2027-01-01"),
         "after the roster's --as-of"),
        (("P-2", "female", "no", "civil_servant", "U-3", "1800", "", "", ""),
         "data of hr.person.registered is invalid: birth_year"),
        (("P 2", "female", "no", "civil_servant", "U-3", "", "", "", ""), "subject"),
        (("P-2", "female", "no", "civil_servant", "U-3", "", "head@U-3;head@U-3", "", ""),
         "listed twice"),
    ],
)  # fmt: skip
def test_a_bad_row_is_reported_and_publishes_nothing(person: tuple[str, ...], reason: str) -> None:
    plan = plan_import(roster([PERSON, person]), OPTIONS)
    assert list(reasons(plan)) == ["people row 3"]
    assert reason in reasons(plan)["people row 3"]
    assert subjects(plan.person_records) == {"P-1"}  # the good row still goes
    assert plan.people_accepted == 1


def test_every_problem_of_a_row_is_listed() -> None:
    person = ("P-2", "x", "maybe", "boss", "U-3", "80", "", "", "")
    reason = reasons(plan_import(roster([person]), OPTIONS))["people row 2"]
    for column in ("gender", "ethnic_minority", "category", "birth_year"):
        assert column in reason


def test_a_duplicate_person_id_refuses_every_row_carrying_it() -> None:
    plan = plan_import(roster([PERSON, PERSON, ("P-3", *PERSON[1:])]), OPTIONS)
    assert reasons(plan) == {
        "people row 2": "person_id P-1 is on rows 2, 3",
        "people row 3": "person_id P-1 is on rows 2, 3",
    }
    assert subjects(plan.person_records) == {"P-3"}


def test_unit_problems_cascade_to_their_subtree_and_people() -> None:
    units = [
        ("U-1", "UBND tỉnh", "", "province"),
        ("U-2", "Sở Nội vụ", "U-1", "agencyy"),
        ("U-3", "Phòng Công chức", "U-2", "division"),
        ("U-4", "Phòng A", "U-5", "division"),
        ("U-5", "Phòng B", "U-4", "division"),
        ("U-6", "Phòng C", "U-0", "division"),
        ("U-1", "UBND tỉnh (lặp)", "", "province"),
    ]
    plan = plan_import(roster([PERSON], units), OPTIONS)
    assert reasons(plan) == {
        "units row 2": "unit_id U-1 is on rows 2, 8",
        "units row 3": "level: unknown value 'agencyy' (expected one of province, agency, "
        "public_service_unit, division)",
        "units row 4": "parent U-2 is refused (units row 3)",
        "units row 5": "parent U-5 is refused (units row 6)",
        "units row 6": "parent chain loops: U-4 → U-5 → U-4",
        "units row 7": "parent U-0 is not in the units sheet nor given with --known-unit",
        "units row 8": "unit_id U-1 is on rows 2, 8",
        "people row 2": "unit U-3 is refused (units row 4)",
    }
    assert plan.records == []


def test_known_units_may_be_named_without_being_listed() -> None:
    units = [("U-3", "Phòng Công chức", "U-2", "division")]
    refused = plan_import(roster([PERSON], units), OPTIONS)
    assert "parent U-2 is not in the units sheet" in reasons(refused)["units row 2"]
    known = ImportOptions(source="parity-import", as_of=AS_OF, known_units=frozenset({"U-2"}))
    plan = plan_import(roster([PERSON], units), known)
    assert plan.rejections == []
    assert subjects(plan.records) == {"U-3", "P-1"}


def test_as_of_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_import(roster([PERSON]), ImportOptions("parity-import", datetime(2026, 1, 1)))


def test_as_of_in_utc_reads_dates_in_vietnam() -> None:
    late_evening_utc = datetime(2026, 10, 31, 18, 0, tzinfo=UTC)  # 1 November in Vietnam
    person = ("P-1", "female", "no", "civil_servant", "U-3", "", "", "", "it@2026-11-01")
    plan = plan_import(roster([person]), ImportOptions("parity-import", late_evening_utc))
    assert plan.rejections == []
