"""The people sheet: one row per person (cán bộ, công chức, viên chức), read and checked.

Pure. A row is refused when a cell cannot be read, when its person id is on several rows,
when it names a unit that is neither accepted from the units sheet nor a ``--known-unit``,
when it lists the same fact twice, or when a date lies after the roster's ``--as-of``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from services.kit.roster import cells
from services.kit.roster.cells import CellError, PlanningCell, PositionCell, TrainingCell
from services.kit.roster.sheets import SheetRow
from shared.contract import Gender, StaffCategory

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PersonRow:
    row: int
    person_id: str
    gender: Gender
    ethnic_minority: bool
    category: StaffCategory
    unit_id: str
    birth_year: int | None
    positions: tuple[PositionCell, ...]
    planning: tuple[PlanningCell, ...]
    trainings: tuple[TrainingCell, ...]

    def dates(self) -> list[date]:
        appointed = [p.appointed_on for p in self.positions if p.appointed_on is not None]
        return appointed + [t.completed_on for t in self.trainings]

    def unit_references(self) -> list[str]:
        referenced = [self.unit_id]
        referenced += [p.unit_id for p in self.positions]
        referenced += [p.unit_id for p in self.planning]
        return list(dict.fromkeys(referenced))


def read_person(row: SheetRow) -> PersonRow:
    """One row's own content; raises CellError listing every problem of the row."""
    problems: list[str] = []

    def cell(read: Callable[[str], T], column: str, fallback: T) -> T:
        try:
            return read(row.get(column))
        except CellError as error:
            problems.append(str(error))
            return fallback

    person_id, unit_id = row.get("person_id"), row.get("unit_id")
    if not person_id:
        problems.append("person_id: empty")
    if not unit_id:
        problems.append("unit_id: empty")
    person = PersonRow(
        row=row.number,
        person_id=person_id,
        gender=cell(cells.gender, "gender", Gender.FEMALE),
        ethnic_minority=cell(lambda v: cells.flag("ethnic_minority", v), "ethnic_minority", False),
        category=cell(cells.category, "category", StaffCategory.OTHER),
        unit_id=unit_id,
        birth_year=cell(lambda v: cells.year("birth_year", v), "birth_year", None),
        positions=tuple(cell(cells.positions, "positions", [])),
        planning=tuple(cell(cells.planning, "planning", [])),
        trainings=tuple(cell(cells.trainings, "trainings", [])),
    )
    problems += _repeated(person)
    if problems:
        raise CellError("; ".join(problems))
    return person


def _repeated(person: PersonRow) -> list[str]:
    """The same fact listed twice in a row is a typo to fix, not a fact to publish twice."""
    facts: dict[str, list[tuple[str, ...]]] = {
        "positions": [(p.role.value, p.unit_id) for p in person.positions],
        "planning": [(p.role.value, p.unit_id, p.period) for p in person.planning],
        "trainings": [(t.course_id, t.completed_on.isoformat()) for t in person.trainings],
    }
    return [
        f"{column}: {'@'.join(fact)} is listed twice"
        for column, listed in facts.items()
        for fact, count in Counter(listed).items()
        if count > 1
    ]


def reference_problems(
    person: PersonRow,
    accepted_units: frozenset[str],
    refused_units: Mapping[str, int],
    known_units: frozenset[str],
) -> list[str]:
    problems = []
    for unit_id in person.unit_references():
        if unit_id in accepted_units or (unit_id in known_units and unit_id not in refused_units):
            continue
        if unit_id in refused_units:
            problems.append(f"unit {unit_id} is refused (units row {refused_units[unit_id]})")
        else:
            problems.append(f"unit {unit_id} is not in the units sheet nor given with --known-unit")
    return problems


def late_dates(person: PersonRow, as_of: date) -> list[str]:
    return [
        f"date {day.isoformat()} is after the roster's --as-of ({as_of.isoformat()})"
        for day in person.dates()
        if day > as_of
    ]
