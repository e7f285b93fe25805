"""The province's organisation: the initial load of units, staff, leaders and planning pools
when the HR system goes live, and the occasional change of a unit afterwards."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tests.generator import names
from tests.generator.personnel import (
    fill_deputy,
    fill_head,
    hire,
    period_name,
    period_start,
    plan_successors,
)
from tests.generator.state import ProvinceState, Unit

if TYPE_CHECKING:
    from tests.generator.model import ProvinceShape

DEPUTIES = {"province": 3, "agency": 2, "public_service_unit": 2, "division": 1}


def _span(state: ProvinceState, bounds: tuple[int, int]) -> int:
    return state.rng.randint(bounds[0], max(bounds))


def _unit(
    state: ProvinceState,
    time: datetime,
    name: str,
    level: str,
    parent: Unit | None,
    family: str,
    shape: ProvinceShape,
) -> Unit:
    share = names.FEMALE_SHARE[family] + state.rng.uniform(-0.12, 0.12)
    return state.register_unit(
        time,
        name,
        level,
        parent.unit_id if parent else None,
        family,
        size=_span(state, shape.people_per_unit),
        female_share=min(0.9, max(0.1, share)),
        deputies=DEPUTIES[level] + state.rng.randint(0, 1),
    )


def _pick_names(state: ProvinceState, catalogue: tuple[str, ...], count: int) -> list[str]:
    chosen = list(catalogue[:4]) + state.rng.sample(catalogue[4:], max(0, len(catalogue) - 4))
    return [
        chosen[i] if i < len(chosen) else f"{chosen[i % len(chosen)]} {i // len(chosen) + 1}"
        for i in range(count)
    ]


def _clock(start: datetime) -> list[datetime]:
    return [start]


def _tick(clock: list[datetime]) -> datetime:
    clock[0] += timedelta(seconds=1)
    return clock[0]


def build_tree(state: ProvinceState, shape: ProvinceShape, at: datetime) -> Unit:
    """Register the province, its agencies, divisions, public service units and their
    divisions (phòng, khoa), a second apart in tree order."""
    clock = _clock(at)
    root = _unit(state, at, names.PROVINCE_NAME, "province", None, "general", shape)
    for index in range(shape.agencies):
        name, family = names.agency_name(index)
        agency = _unit(state, _tick(clock), name, "agency", root, family, shape)
        count = _span(state, shape.divisions_per_agency)
        for division in _pick_names(state, names.DIVISIONS[family], count):
            _unit(state, _tick(clock), division, "division", agency, family, shape)
        count = _span(state, shape.public_service_units_per_agency)
        for psu_name in _pick_names(state, names.PUBLIC_SERVICE_UNITS[family], count):
            if family == "district":
                psu_name = f"{psu_name} {name.split(' ', 2)[-1]}"
            psu = _unit(state, _tick(clock), psu_name, "public_service_unit", agency, family, shape)
            divisions = _span(state, shape.divisions_per_psu)
            for division in _pick_names(state, names.PSU_DIVISIONS[family], divisions):
                _unit(state, _tick(clock), division, "division", psu, family, shape)
    return root


def initial_load(state: ProvinceState, shape: ProvinceShape, at: datetime) -> Unit:
    """Go-live: the tree, then everyone's registration, then leaders and planning pools."""
    root = build_tree(state, shape, at)
    clock = _clock(at + timedelta(hours=1))
    for unit in list(state.units.values()):
        for _ in range(unit.size_target):
            hire(state, _tick(clock), unit, ages=(24, 58))
    clock = _clock(at + timedelta(hours=3))
    for unit in list(state.units.values()):
        fill_head(state, _tick(clock), unit)
        for _ in range(unit.deputies_target):
            fill_deputy(state, _tick(clock), unit)
    for person in state.people.values():  # terms began before go-live: spread their ends
        for key in person.positions:
            person.positions[key] = at - timedelta(days=state.rng.randint(0, 5 * 365))
    period = period_name(period_start(at.year))
    clock = _clock(at + timedelta(hours=5))
    for unit in list(state.units.values()):
        if unit is not root:
            plan_successors(state, _tick(clock), unit, period, state.rng.randint(2, 4))
    return root


def rename_somewhere(state: ProvinceState, time: datetime) -> None:
    units = [u for u in state.open_units() if u.level != "province"]
    if units:
        unit = state.rng.choice(units)
        state.update_unit(time, unit, name=names.renamed(unit.name))


def establish_division(state: ProvinceState, time: datetime, shape: ProvinceShape) -> None:
    """A new division (thành lập phòng) under an agency or public service unit."""
    parents = [u for u in state.open_units() if u.level in ("agency", "public_service_unit")]
    if not parents:
        return
    parent = state.rng.choice(parents)
    catalogue = (names.DIVISIONS if parent.level == "agency" else names.PSU_DIVISIONS)[
        parent.family
    ]
    taken = {state.units[c].name for c in state.children[parent.unit_id]}
    free = [n for n in catalogue if n not in taken] or [f"{catalogue[0]} 2"]
    division = _unit(state, time, state.rng.choice(free), "division", parent, parent.family, shape)
    for _ in range(min(3, division.size_target)):  # some staff move in the same day
        people = [p for p in state.staff[parent.unit_id] if not state.people[p].positions]
        if people:
            state.transfer(time, state.people[state.rng.choice(people)], division.unit_id)


def move_division(state: ProvinceState, time: datetime) -> None:
    """A division moves to a sibling public service unit (hr.unit.updated parent_id)."""
    psus = [u for u in state.open_units() if u.level == "public_service_unit"]
    state.rng.shuffle(psus)
    for psu in psus:
        assert psu.parent_id is not None
        siblings = [
            s
            for s in state.children[psu.parent_id]
            if s != psu.unit_id and state.units[s].level == "public_service_unit"
        ]
        divisions = state.child_divisions(psu.unit_id)
        if siblings and divisions:
            target = state.rng.choice(siblings)
            state.update_unit(time, state.units[state.rng.choice(divisions)], parent_id=target)
            return
