"""The reorganisation of 2025-07-01 (sắp xếp tổ chức bộ máy): departments merged into a
sibling (with their same-named divisions), one public service unit dissolved, a couple of
public service units moved to another department.

All unit events take effect at the same instant; they are chosen so that the order among
them does not matter. HR prepares the day before (moves the dissolving unit's staff out,
leaving a couple behind if the shape asks for anomalies) and, the morning after, appoints
the absorbed units' former heads deputies of the units they joined.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tests.generator import names
from tests.generator.personnel import take_up
from tests.generator.state import DEPUTY, HEAD, Person, ProvinceState, Unit

Action = tuple[datetime, Callable[[datetime], None]]


@dataclass
class Reorganisation:
    state: ProvinceState
    root_id: str
    at: datetime
    anomalies: bool
    merges: list[tuple[Unit, Unit, str | None]] = field(default_factory=list)
    division_merges: list[tuple[Unit, Unit]] = field(default_factory=list)
    dissolved: Unit | None = None
    moves: list[tuple[Unit, Unit]] = field(default_factory=list)
    former_heads: list[tuple[Person, Unit]] = field(default_factory=list)
    stranded: list[Person] = field(default_factory=list)

    def actions(self) -> list[Action]:
        return [
            (self.at - timedelta(hours=16), self.prepare),
            (self.at, self.reorganise),
            (self.at + timedelta(hours=8), self.reappoint),
            (self.at + timedelta(days=45), self.rehome_stranded),
        ]

    def _agencies(self) -> list[Unit]:
        return [
            u
            for u in self.state.open_units()
            if u.level == "agency" and u.parent_id == self.root_id
        ]

    def _choose(self) -> None:
        state, rng = self.state, self.state.rng
        agencies = self._agencies()
        by_name = {u.base_name: u for u in agencies}
        wanted = max(1, round(len(agencies) / 6))
        for absorbed, surviving, new_name in names.MERGES:
            if absorbed in by_name and surviving in by_name and len(self.merges) < wanted:
                self.merges.append((by_name[absorbed], by_name[surviving], new_name))
        if not self.merges:
            general = [u for u in agencies if u.family == "general"]
            if len(general) >= 2:
                absorbed_unit, surviving_unit = rng.sample(general, 2)
                self.merges.append((absorbed_unit, surviving_unit, None))
        involved = {u.unit_id for pair in self.merges for u in pair[:2]}
        for absorbed_unit, surviving_unit, _ in self.merges:
            theirs = {
                state.units[d].base_name: state.units[d]
                for d in state.child_divisions(surviving_unit.unit_id)
            }
            for division in state.child_divisions(absorbed_unit.unit_id):
                match = theirs.get(state.units[division].base_name)
                if match is not None:
                    self.division_merges.append((state.units[division], match))
        calm = [u for u in agencies if u.unit_id not in involved]
        psus = [
            state.units[c]
            for a in calm
            for c in state.children[a.unit_id]
            if state.units[c].level == "public_service_unit"
        ]
        rng.shuffle(psus)
        if psus:
            self.dissolved = psus.pop()
        for psu in psus[:2]:
            targets = [a for a in calm if a.unit_id != psu.parent_id]
            if targets:
                self.moves.append((psu, rng.choice(targets)))
        pairs = [(a, b) for a, b, _ in self.merges] + self.division_merges
        for absorbed_unit, surviving_unit in pairs:
            for head in state.holders_of(absorbed_unit.unit_id, HEAD):
                self.former_heads.append((state.people[head], surviving_unit))

    def prepare(self, time: datetime) -> None:
        self._choose()
        if self.dissolved is None:
            return
        state, rng = self.state, self.state.rng
        staff = [state.people[p] for p in state.staff[self.dissolved.unit_id]]
        keep = rng.sample(staff, min(2, len(staff))) if self.anomalies else []
        assert self.dissolved.parent_id is not None
        homes = [self.dissolved.parent_id, *state.child_divisions(self.dissolved.unit_id)]
        for person in staff:
            if person in keep:
                self.stranded.append(person)
            else:
                state.transfer(time, person, rng.choice(homes))

    def reorganise(self, time: datetime) -> None:
        state = self.state
        for absorbed_unit, surviving_unit, new_name in self.merges:
            state.merge(time, absorbed_unit, surviving_unit)
            if new_name is not None:
                state.update_unit(time, surviving_unit, name=new_name)
        for absorbed_unit, surviving_unit in self.division_merges:
            state.merge(time, absorbed_unit, surviving_unit)
        if self.dissolved is not None:
            state.dissolve(time, self.dissolved)
        for psu, agency in self.moves:
            state.update_unit(time, psu, parent_id=agency.unit_id)

    def reappoint(self, time: datetime) -> None:
        for person, unit in self.former_heads:
            if not person.left and not self.state.units[person.home].closed:
                take_up(self.state, time, person, unit, DEPUTY)

    def rehome_stranded(self, time: datetime) -> None:
        """HR notices one of the people left in the dissolved unit; the other stays there."""
        if self.stranded and self.dissolved is not None and self.dissolved.parent_id:
            person = self.stranded[0]
            if not person.left:
                self.state.transfer(time, person, self.dissolved.parent_id)
