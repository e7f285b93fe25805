"""Reading roster cells: text, flags, enums with Vietnamese aliases, and the list cells."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.kit.roster import cells
from services.kit.roster.cells import CellError, PlanningCell, PositionCell, TrainingCell
from shared.contract import Gender, Role, TrainingCategory


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (1975.0, "1975"),
        (1975, "1975"),
        (True, "true"),
        (datetime(2024, 5, 10), "2024-05-10"),
        (date(2024, 5, 10), "2024-05-10"),
        ("  P-0001 ", "P-0001"),
    ],
)
def test_cells_are_read_as_text(value: object, expected: str) -> None:
    assert cells.text(value) == expected


GENDERS = [
    ("female", Gender.FEMALE),
    ("Nữ", Gender.FEMALE),
    ("nam", Gender.MALE),
    ("MALE", Gender.MALE),
]
FLAGS = [("yes", True), ("có", True), ("x", True), ("", False), ("không", False), ("0", False)]


@pytest.mark.parametrize(("value", "expected"), GENDERS)
def test_gender_accepts_contract_values_and_vietnamese(value: str, expected: Gender) -> None:
    assert cells.gender(value) == expected


def test_an_unknown_gender_names_the_allowed_values() -> None:
    with pytest.raises(
        CellError, match=r"gender: unknown value 'x' \(expected one of female, male"
    ):
        cells.gender("x")


@pytest.mark.parametrize(("value", "expected"), FLAGS)
def test_flags(value: str, expected: bool) -> None:
    assert cells.flag("ethnic_minority", value) is expected


def test_a_flag_that_is_not_yes_or_no_is_an_error() -> None:
    with pytest.raises(CellError, match="ethnic_minority"):
        cells.flag("ethnic_minority", "maybe")


def test_positions_with_and_without_appointment_date() -> None:
    assert cells.positions("head@U-0002; deputy_head@U-0003@2022-07-01\n") == [
        PositionCell(Role.HEAD, "U-0002", None),
        PositionCell(Role.DEPUTY_HEAD, "U-0003", date(2022, 7, 1)),
    ]
    assert cells.positions("") == []


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("head-U-0002", "is not role@unit_id"),
        ("head@", "is not role@unit_id"),
        ("chief@U-1", "unknown value 'chief'"),
        ("head@U-1@2022-02-30", "not a date"),
        ("head@U-1@2022-01-01@x", "is not role@unit_id"),
    ],
)
def test_malformed_positions(cell: str, message: str) -> None:
    with pytest.raises(CellError, match=message):
        cells.positions(cell)


def test_planning_needs_a_period_in_order() -> None:
    assert cells.planning("head@U-0002@2021-2026") == [
        PlanningCell(Role.HEAD, "U-0002", "2021-2026")
    ]
    for bad in ("head@U-0002", "head@U-0002@2026-2021", "head@U-0002@2021"):
        with pytest.raises(CellError, match="planning"):
            cells.planning(bad)


def test_trainings_derive_a_course_id_unless_given() -> None:
    assert cells.trainings("leadership@2024-05-10; it@2023-01-02@TH-7") == [
        TrainingCell(TrainingCategory.LEADERSHIP, date(2024, 5, 10), "leadership-2024-05-10"),
        TrainingCell(TrainingCategory.IT, date(2023, 1, 2), "TH-7"),
    ]
    with pytest.raises(CellError, match="not a date"):
        cells.trainings("leadership@10/05/2024")


def test_birth_year_must_be_four_digits() -> None:
    assert cells.year("birth_year", "") is None
    assert cells.year("birth_year", "1980") == 1980
    with pytest.raises(CellError, match="four-digit"):
        cells.year("birth_year", "80")
