"""Dates of a roster outside the years the consumers accept, and the epoch they would move."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from services.kit import cli
from services.kit.console import EXIT_FAILED
from services.kit.roster.plan import ImportOptions, plan_import
from services.kit.roster.sheets import PERSON_COLUMNS, UNIT_COLUMNS, Roster, SheetRow
from shared.clock import VIETNAM

AS_OF = datetime(2025, 6, 1, tzinfo=VIETNAM)
OPTIONS = ImportOptions(source="parity-import", as_of=AS_OF)
UNITS = [
    SheetRow(2, dict(zip(UNIT_COLUMNS, ("U1", "Sở", "", "agency"), strict=True))),
    SheetRow(3, dict(zip(UNIT_COLUMNS, ("U2", "Phòng", "U1", "division"), strict=True))),
]


def person(number: int, person_id: str, positions: str = "", trainings: str = "") -> SheetRow:
    values = (person_id, "female", "no", "civil_servant", "U2", "", positions, "", trainings)
    return SheetRow(number, dict(zip(PERSON_COLUMNS, values, strict=True)))


def times(records: list[bytes]) -> dict[tuple[str, str], str]:
    events = [json.loads(value) for value in records]
    return {(e["subject"], e["type"]): e["time"] for e in events}


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("trainings", "leadership@1024-05-10"),
        ("trainings", "it@3000-01-01"),
        ("positions", "head@U2@1899-12-31"),
    ],
)
def test_an_implausible_date_refuses_its_row_only_and_names_the_cell(
    column: str, cell: str
) -> None:
    good = person(2, "P1", positions="head@U2@2020-01-01")
    bad = person(3, "P2", **{column: cell})
    plan = plan_import(Roster(UNITS, [good, bad]), OPTIONS)
    assert (plan.units_accepted, plan.people_accepted) == (2, 1)
    (rejection,) = plan.rejections
    assert (rejection.where, rejection.subject, rejection.row) == ("people row 3", "P2", 3)
    assert rejection.reason.startswith(f"{column}: ")
    assert "between 1900 and 2999" in rejection.reason
    found = times([r.value for r in plan.records])
    assert found[("U1", "hr.unit.registered")] == "2020-01-01T00:00:00+07:00"
    assert found[("P1", "hr.person.registered")] == "2020-01-01T00:00:00+07:00"


def test_the_epoch_comes_only_from_the_rows_that_are_published() -> None:
    published = person(2, "P1", trainings="it@2019-03-01")
    elsewhere = SheetRow(
        3,
        {**person(3, "P2", trainings="it@1950-01-01").cells, "unit_id": "U-unknown"},
    )
    plan = plan_import(Roster(UNITS, [published, elsewhere]), OPTIONS)
    assert [r.where for r in plan.rejections] == ["people row 3"]
    found = times([r.value for r in plan.records])
    assert found[("U1", "hr.unit.registered")] == "2019-03-01T00:00:00+07:00"
    assert found[("P1", "hr.person.registered")] == "2019-03-01T00:00:00+07:00"


def test_the_earliest_and_latest_plausible_days_are_accepted() -> None:
    early = person(2, "P1", trainings="it@1900-01-01")
    plan = plan_import(Roster(UNITS, [early]), OPTIONS)
    assert plan.rejections == []
    assert times([r.value for r in plan.records])[("U1", "hr.unit.registered")] == (
        "1900-01-01T00:00:00+07:00"
    )


def test_an_as_of_outside_the_plausible_years_is_refused() -> None:
    later = ImportOptions("parity-import", datetime(3000, 1, 1, tzinfo=VIETNAM))
    with pytest.raises(ValueError, match="between 1900 and 2999"):
        plan_import(Roster(UNITS, []), later)


def test_the_import_command_refuses_an_implausible_as_of_as_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["import", "roster.xlsx", "--as-of", "9999-12-31"])
    assert exit_info.value.code == EXIT_FAILED
