"""The generator's own view of the province while it writes the HR system's events.

Every change goes through a method here that both emits the event (a :class:`Draft`) and
updates the state the way the contract says the event acts, so later choices (who can be
appointed, who can leave) stay plausible. Ordered collections are dicts, never sets: the
generator must be deterministic for a seed whatever ``PYTHONHASHSEED`` is.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

HR_SOURCE = "hrms/lang-son"  # the provincial HR management system
TRAINING_SOURCE = "lms/lang-son"  # the training system: sets no `sequence`
HEAD, DEPUTY = "head", "deputy_head"


@dataclass(slots=True)
class Draft:
    """An event before it gets its id, sequence, arrival and encoding."""

    time: datetime
    type: str
    subject: str
    data: dict[str, Any]
    source: str
    order: int  # emission order: the intended order of events with equal time
    sequence: int | None = None
    arrival: float = 0.0


@dataclass(slots=True)
class Unit:
    unit_id: str
    name: str
    level: str
    parent_id: str | None
    family: str
    female_share: float
    size_target: int
    deputies_target: int
    base_name: str
    closed: bool = False


@dataclass(slots=True)
class Person:
    person_id: str
    gender: str
    ethnic_minority: bool
    category: str
    birth_year: int
    retire_at: datetime
    home: str
    registered_at: datetime
    left: bool = False
    positions: dict[tuple[str, str], datetime] = field(default_factory=dict)  # -> term start
    planning: dict[tuple[str, str, str], None] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """What the contract says holds at one instant (for cross-checking the reference)."""

    units: dict[str, tuple[str | None, str]]  # active unit -> (parent_id, level)
    people: dict[str, str]  # active person -> home unit
    positions: frozenset[tuple[str, str, str]]  # (person, unit, role), active ones
    planning: frozenset[tuple[str, str, str, str]]  # (person, unit, role, period)


class ProvinceState:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.drafts: list[Draft] = []
        self.units: dict[str, Unit] = {}
        self.children: dict[str, dict[str, None]] = {}
        self.people: dict[str, Person] = {}
        self.staff: dict[str, dict[str, None]] = {}  # unit -> people homed there, not left
        self.holders: dict[tuple[str, str], dict[str, None]] = {}  # (unit, role) -> people
        self.pools: dict[str, dict[tuple[str, str, str], None]] = {}  # unit -> entries
        self.unit_count = 0
        self.person_count = 0

    # --- emission ------------------------------------------------------------------------

    def emit(
        self,
        time: datetime,
        type_: str,
        subject: str,
        data: dict[str, Any],
        source: str = HR_SOURCE,
    ) -> None:
        self.drafts.append(Draft(time, type_, subject, data, source, len(self.drafts)))

    # --- the organisation ----------------------------------------------------------------

    def chain(self, unit_id: str) -> list[str]:
        """The unit and its ancestors, nearest first."""
        result: list[str] = []
        current: str | None = unit_id
        while current is not None and current not in result:
            result.append(current)
            current = self.units[current].parent_id if current in self.units else None
        return result

    def subtree(self, unit_id: str) -> list[str]:
        result, todo = [], [unit_id]
        while todo:
            current = todo.pop()
            result.append(current)
            todo.extend(self.children.get(current, {}))
        return result

    def open_units(self) -> list[Unit]:
        return [u for u in self.units.values() if not u.closed]

    def child_divisions(self, unit_id: str) -> list[str]:
        return [c for c in self.children.get(unit_id, {}) if self.units[c].level == "division"]

    def register_unit(
        self,
        time: datetime,
        name: str,
        level: str,
        parent_id: str | None,
        family: str,
        *,
        size: int,
        deputies: int,
        female_share: float,
    ) -> Unit:
        self.unit_count += 1
        unit = Unit(
            f"U-{self.unit_count:04d}",
            name,
            level,
            parent_id,
            family,
            female_share,
            size,
            deputies,
            name,
        )
        self.units[unit.unit_id] = unit
        self.children[unit.unit_id] = {}
        self.staff[unit.unit_id] = {}
        self.pools[unit.unit_id] = {}
        if parent_id is not None:
            self.children[parent_id][unit.unit_id] = None
        self.emit(
            time,
            "hr.unit.registered",
            unit.unit_id,
            {"unit_id": unit.unit_id, "name": name, "parent_id": parent_id, "level": level},
        )
        return unit

    def update_unit(
        self,
        time: datetime,
        unit: Unit,
        *,
        name: str | None = None,
        parent_id: str | None = None,
        level: str | None = None,
    ) -> None:
        data: dict[str, Any] = {"unit_id": unit.unit_id}
        if name is not None:
            unit.name = data["name"] = name
        if level is not None:
            unit.level = data["level"] = level
        if parent_id is not None:
            self._reparent(unit.unit_id, parent_id)
            data["parent_id"] = parent_id
        self.emit(time, "hr.unit.updated", unit.unit_id, data)
        if parent_id is not None:  # positions no longer in a mover's chain: HR ends them
            for member in self.subtree(unit.unit_id):
                for person_id in list(self.staff[member]):
                    self.end_positions_outside_chain(time, self.people[person_id], member)

    def merge(self, time: datetime, unit: Unit, into: Unit) -> None:
        self.emit(
            time,
            "hr.unit.merged",
            unit.unit_id,
            {"unit_id": unit.unit_id, "into_unit_id": into.unit_id},
        )
        for person_id in list(self.staff[unit.unit_id]):
            self.people[person_id].home = into.unit_id
            self.staff[into.unit_id][person_id] = None
        self.staff[unit.unit_id].clear()
        for child in list(self.children[unit.unit_id]):
            self._reparent(child, into.unit_id)
        self._close(unit)

    def dissolve(self, time: datetime, unit: Unit) -> None:
        self.emit(time, "hr.unit.dissolved", unit.unit_id, {"unit_id": unit.unit_id})
        for child in list(self.children[unit.unit_id]):
            assert unit.parent_id is not None
            self._reparent(child, unit.parent_id)
        self._close(unit)

    def _close(self, unit: Unit) -> None:
        unit.closed = True
        for role in (HEAD, DEPUTY):
            for person_id in list(self.holders.get((unit.unit_id, role), {})):
                self._drop_position(self.people[person_id], unit.unit_id, role)
        for person_id, role, period in list(self.pools[unit.unit_id]):
            self._drop_planning(self.people[person_id], unit.unit_id, role, period)

    def _reparent(self, unit_id: str, parent_id: str) -> None:
        old = self.units[unit_id].parent_id
        if old is not None:
            self.children[old].pop(unit_id, None)
        self.units[unit_id].parent_id = parent_id
        self.children[parent_id][unit_id] = None

    # --- people ----------------------------------------------------------------------------

    def register_person(
        self,
        time: datetime,
        unit_id: str,
        *,
        gender: str,
        ethnic_minority: bool,
        category: str,
        birth_year: int,
        retire_at: datetime,
    ) -> Person:
        self.person_count += 1
        person = Person(
            f"P-{self.person_count:06d}",
            gender,
            ethnic_minority,
            category,
            birth_year,
            retire_at,
            unit_id,
            time,
        )
        self.people[person.person_id] = person
        self.staff[unit_id][person.person_id] = None
        self.emit(
            time,
            "hr.person.registered",
            person.person_id,
            {
                "person_id": person.person_id,
                "gender": gender,
                "ethnic_minority": ethnic_minority,
                "category": category,
                "unit_id": unit_id,
                "birth_year": birth_year,
            },
        )
        return person

    def holders_of(self, unit_id: str, role: str) -> list[str]:
        return list(self.holders.get((unit_id, role), {}))

    def appoint(self, time: datetime, person: Person, unit_id: str, role: str) -> None:
        number = self.rng.randint(1, 2400)
        issuer = "UBND" if self.units[unit_id].level in ("province", "agency") else "SNV"
        self.emit(
            time,
            "hr.position.appointed",
            person.person_id,
            {"unit_id": unit_id, "role": role, "decision_no": f"{number}/QĐ-{issuer}"},
        )
        person.positions[(unit_id, role)] = time
        self.holders.setdefault((unit_id, role), {})[person.person_id] = None

    def end_position(self, time: datetime, person: Person, unit_id: str, role: str) -> None:
        self.emit(time, "hr.position.ended", person.person_id, {"unit_id": unit_id, "role": role})
        self._drop_position(person, unit_id, role)

    def _drop_position(self, person: Person, unit_id: str, role: str) -> None:
        person.positions.pop((unit_id, role), None)
        self.holders.get((unit_id, role), {}).pop(person.person_id, None)

    def end_positions_outside_chain(self, time: datetime, person: Person, home: str) -> None:
        chain = self.chain(home)
        for unit_id, role in list(person.positions):
            if unit_id not in chain:
                self.end_position(time, person, unit_id, role)

    def transfer(self, time: datetime, person: Person, unit_id: str) -> None:
        """Positions outside the new chain end: in the old home implicitly, others explicitly."""
        old = person.home
        new_chain = self.chain(unit_id)
        for held_unit, role in list(person.positions):
            if held_unit != old and held_unit not in new_chain:
                self.end_position(time, person, held_unit, role)
        self.emit(time, "hr.person.transferred", person.person_id, {"unit_id": unit_id})
        for held_unit, role in list(person.positions):
            if held_unit == old:
                self._drop_position(person, held_unit, role)
        self.staff[old].pop(person.person_id, None)
        self.staff[unit_id][person.person_id] = None
        person.home = unit_id

    def leave(self, time: datetime, person: Person, reason: str) -> None:
        self.emit(time, "hr.person.left", person.person_id, {"reason": reason})
        for unit_id, role in list(person.positions):
            self._drop_position(person, unit_id, role)
        for unit_id, role, period in list(person.planning):
            self._drop_planning(person, unit_id, role, period)
        self.staff[person.home].pop(person.person_id, None)
        person.left = True

    def add_planning(
        self,
        time: datetime,
        person: Person,
        unit_id: str,
        role: str,
        period: str,
    ) -> None:
        self.emit(
            time,
            "hr.planning.added",
            person.person_id,
            {"unit_id": unit_id, "role": role, "period": period},
        )
        person.planning[(unit_id, role, period)] = None
        self.pools[unit_id][(person.person_id, role, period)] = None

    def remove_planning(
        self,
        time: datetime,
        person: Person,
        unit_id: str,
        role: str,
        period: str,
    ) -> None:
        self.emit(
            time,
            "hr.planning.removed",
            person.person_id,
            {"unit_id": unit_id, "role": role, "period": period},
        )
        self._drop_planning(person, unit_id, role, period)

    def _drop_planning(self, person: Person, unit_id: str, role: str, period: str) -> None:
        person.planning.pop((unit_id, role, period), None)
        self.pools[unit_id].pop((person.person_id, role, period), None)

    # --- checking --------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        units = {u.unit_id: (u.parent_id, u.level) for u in self.open_units()}
        people = {
            p.person_id: p.home for p in self.people.values() if not p.left and p.home in units
        }
        return Snapshot(
            units=units,
            people=people,
            positions=frozenset(
                (p, u, r) for p in people for (u, r) in self.people[p].positions if u in units
            ),
            planning=frozenset(
                (p, u, r, period)
                for p in people
                for (u, r, period) in self.people[p].planning
                if u in units
            ),
        )
