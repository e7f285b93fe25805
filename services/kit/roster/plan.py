"""Everything an import will publish, and every row it refuses, decided before anything is sent.

Pure: a :class:`Roster` and :class:`ImportOptions` in, an :class:`ImportPlan` out. Each
event is checked with the consumers' own decoder (:func:`services.kit.records.checked_record`);
a row with any problem contributes no event at all.

The epoch (when units and people are registered) is decided last, from the dates of the
people rows that are published: a refused row never moves it. Rows are judged first with
their registrations at ``--as-of``; whether the decoder accepts an event does not depend on
its time as long as the year is plausible, and the epoch lies between the earliest accepted
date (itself plausible) and ``--as-of``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from services.kit.records import OutboundRecord, Rejection, checked_record
from services.kit.roster.cells import CellError
from services.kit.roster.events import (
    person_facts,
    person_registered,
    start_of_day,
    unit_registered,
)
from services.kit.roster.people import PersonRow, late_dates, read_person, reference_problems
from services.kit.roster.sheets import Roster, SheetRow
from services.kit.roster.units import UnitRow, order_units, read_unit
from shared.clock import local_date
from shared.contract import PERSONNEL_TOPIC, UNITS_TOPIC, check_year
from shared.envelope import PoisonRecord

DEFAULT_SOURCE = "parity-import"


@dataclass(frozen=True)
class ImportOptions:
    source: str
    as_of: datetime  # timezone-aware
    known_units: frozenset[str] = frozenset()


@dataclass
class ImportPlan:
    unit_records: list[OutboundRecord] = field(default_factory=list)  # parent before child
    person_records: list[OutboundRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    units_accepted: int = 0
    people_accepted: int = 0

    @property
    def records(self) -> list[OutboundRecord]:
        return [*self.unit_records, *self.person_records]


def _repeated_ids(rows: Iterable[SheetRow], column: str) -> dict[str, list[int]]:
    rows = list(rows)
    counts = Counter(row.get(column) for row in rows if row.get(column))
    return {
        value: [row.number for row in rows if row.get(column) == value]
        for value, count in counts.items()
        if count > 1
    }


def _on_rows(column: str, value: str, numbers: list[int]) -> str:
    return f"{column} {value} is on rows {', '.join(str(n) for n in numbers)}"


def _read_units(
    roster: Roster, options: ImportOptions, plan: ImportPlan
) -> tuple[list[UnitRow], dict[str, int]]:
    """The accepted units in publishing order, and the refused unit ids with their rows."""
    repeated = _repeated_ids(roster.units, "unit_id")
    readable: list[UnitRow] = []
    refused: dict[str, int] = {}
    for row in roster.units:
        unit_id = row.get("unit_id")
        try:
            if row.problems:  # cells that hold no value (spreadsheet errors, formulas)
                raise CellError("; ".join(row.problems))
            if unit_id in repeated:
                raise CellError(_on_rows("unit_id", unit_id, repeated[unit_id]))
            unit = read_unit(row)
            checked_record(
                UNITS_TOPIC, unit_registered(unit, source=options.source, at=options.as_of)
            )
            readable.append(unit)
        except (CellError, PoisonRecord) as error:
            plan.rejections.append(
                Rejection(f"units row {row.number}", str(error), unit_id, row.number)
            )
            if unit_id:
                refused.setdefault(unit_id, row.number)
    accepted, problems = order_units(readable, options.known_units, refused)
    for problem in problems:
        where = f"units row {problem.row}"
        plan.rejections.append(Rejection(where, problem.reason, problem.unit_id, problem.row))
        refused.setdefault(problem.unit_id, problem.row)
    return accepted, refused


def _read_people(roster: Roster, plan: ImportPlan) -> list[PersonRow]:
    repeated = _repeated_ids(roster.people, "person_id")
    readable = []
    for row in roster.people:
        person_id = row.get("person_id")
        try:
            if row.problems:
                raise CellError("; ".join(row.problems))
            if person_id in repeated:
                raise CellError(_on_rows("person_id", person_id, repeated[person_id]))
            readable.append(read_person(row))
        except CellError as error:
            plan.rejections.append(
                Rejection(f"people row {row.number}", str(error), person_id, row.number)
            )
    return readable


def epoch_of(people: Iterable[PersonRow], as_of: datetime) -> datetime:
    """``as_of``, or the first moment of the earliest date the rows state, if earlier."""
    return min([as_of, *(start_of_day(day) for person in people for day in person.dates())])


def _check_people(
    people: Iterable[PersonRow],
    units: Iterable[UnitRow],
    refused_units: dict[str, int],
    options: ImportOptions,
    plan: ImportPlan,
) -> list[tuple[PersonRow, list[OutboundRecord]]]:
    """The people rows that will be published, each with its records after the registration
    (which waits for the epoch); the others are refused into ``plan``."""
    accepted_units = frozenset(unit.unit_id for unit in units)
    as_of_day = local_date(options.as_of)
    accepted = []
    for person in people:
        problems = reference_problems(person, accepted_units, refused_units, options.known_units)
        problems += late_dates(person, as_of_day)
        try:
            if problems:
                raise CellError("; ".join(problems))
            registration = person_registered(person, source=options.source, at=options.as_of)
            checked_record(PERSONNEL_TOPIC, registration)
            facts = person_facts(person, source=options.source, as_of=options.as_of)
            records = [checked_record(PERSONNEL_TOPIC, event) for event in facts]
        except (CellError, PoisonRecord) as error:
            where = f"people row {person.row}"
            plan.rejections.append(Rejection(where, str(error), person.person_id, person.row))
            continue
        accepted.append((person, records))
    return accepted


def plan_import(roster: Roster, options: ImportOptions) -> ImportPlan:
    if options.as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    try:
        check_year(options.as_of.year)
    except ValueError as error:
        raise ValueError(f"as_of: {error}") from None
    plan = ImportPlan()
    people = _read_people(roster, plan)
    units, refused_units = _read_units(roster, options, plan)
    accepted = _check_people(people, units, refused_units, options, plan)
    epoch = epoch_of((person for person, _ in accepted), options.as_of)
    for unit in units:
        event = unit_registered(unit, source=options.source, at=epoch)
        plan.unit_records.append(checked_record(UNITS_TOPIC, event))
    plan.units_accepted = len(units)
    for person, records in accepted:
        registration = person_registered(person, source=options.source, at=epoch)
        plan.person_records += [checked_record(PERSONNEL_TOPIC, registration), *records]
    plan.people_accepted = len(accepted)
    plan.rejections.sort(key=lambda r: (not r.where.startswith("units"), r.row))
    return plan
