"""An independent, brute-force recomputation of the indicators of the contract's section 5.

It is the yardstick the services are tested against, so it is written from the contract's
words alone, as plainly as possible, and shares no code with the services (it uses only
the contract's payload models and the CloudEvent envelope). :func:`replay` folds every
event into one :class:`World`; :func:`indicators` counts, for every active unit, over its
subtree as of ``now``. The inspection indicators are not computed here yet.

Where the contract leaves room, this is the reading taken (the services must agree):

1. Redeliveries: of the events with valid data, the first arrival of each (source, id) is
   kept, later ones are ignored. Events with ``time`` after ``now`` have not happened.
2. Order: (time, unit events before person events, sequence, arrival), where an event
   without ``sequence`` comes after events with one at the same time.
3. A person's events before the person's registration in that order (and every event of
   a person never registered) change nothing, trainings included. After
   ``hr.person.left``, appointments, planning entries and transfers change nothing;
   corrections and trainings are still recorded. A second registration rewrites the
   record and the home unit and makes the person staff again, keeping positions, entries
   and trainings (after leaving there are no positions or entries left to keep).
4. ``hr.unit.updated``, ``merged`` and ``dissolved`` of a unit not registered yet or
   closed change nothing; nor do a merge into itself and a move that would make a unit its
   own ancestor, judged when it takes effect (a registration under a unit that is, by
   then, under it registers the unit at the top). A second ``hr.unit.registered`` of a
   unit rewrites its name, parent and level and does not reopen it.
5. A merge moves every person whose home is the unit (left or not) and every child unit
   to ``into_unit_id`` (people to where ``into_unit_id``'s own merges led, if it was merged
   away already; a unit under it that *is* ``into_unit_id`` takes the merged unit's
   parent), and ends positions and planning entries in it for everyone. A dissolve moves its child
   units under its parent (roots if it had none); people homed there stay, inactive.
6. Positions are (unit, role) and planning entries (unit, role, period), held or not:
   appointing someone to a position they hold changes nothing (it is still an
   appointment event), ending one not held changes nothing.
7. Activity is judged now: a position or entry counts when, now, its person is active and
   its unit is registered and open, whatever the unit's state when it was taken.
8. A subtree follows ``parent_id`` links as they stand now, through closed units too; a
   unit merged away leads to the unit it was merged into (a child placed under it after
   the merge follows the children the merge moved there).
9. ``female_share_of_appointments_ytd`` counts appointment events that took effect
   (rule 3), of any role, whose time falls in now's calendar year in Asia/Ho_Chi_Minh
   and whose unit is active and in the subtree now; a woman by the current record.
10. Qualifying training: a category not in ``non_qualifying_categories``, completed at or
    after now's wall-clock instant in Asia/Ho_Chi_Minh ``qualifying_training_years``
    calendar years earlier (from 29 February to a year without one: 1 March at 00:00),
    and not after now.
11. The planning floor is met when women / people >= floor exactly (the floor read as the
    decimal it is written as: 0.25 is 1/4).
12. ``female_leader_share`` and ``ethnic_minority_female_leaders`` count holders of any
    role; the two ``female_key_leader_*`` shares the configured key roles; a unit's
    level is its level now (``agency`` share: levels ``agency`` and ``province``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from pydantic import ValidationError

from shared.clock import VIETNAM
from shared.contract import EVENT_TYPES, PERSONNEL_TOPIC, UNITS_TOPIC
from shared.envelope import CloudEvent

INDICATOR_IDS = (
    "female_key_leader_division_share",
    "female_key_leader_agency_share",
    "female_share_in_division_planning_pool",
    "female_share_in_planning_pool",
    "trained_share_of_planned_women",
    "units_with_female_in_planning_share",
    "units_meeting_planning_floor_share",
    "female_leader_share",
    "female_head_share",
    "ethnic_minority_female_leaders",
    "female_staff_share",
    "female_share_of_appointments_ytd",
)


@dataclass(frozen=True)
class ReferenceConfig:
    key_leader_roles: frozenset[str] = frozenset({"head", "deputy_head"})
    qualifying_training_years: int = 5
    non_qualifying_categories: frozenset[str] = frozenset({"other"})
    planning_floor: float = 0.25


@dataclass
class UnitState:
    name: str
    parent_id: str | None
    level: str
    closed: bool = False
    merged_into: str | None = None


@dataclass
class PersonState:
    gender: str
    ethnic_minority: bool
    home_unit_id: str
    left: bool = False
    positions: set[tuple[str, str]] = field(default_factory=set)  # (unit, role)
    planning: set[tuple[str, str, str]] = field(default_factory=set)  # (unit, role, period)
    trainings: list[tuple[datetime, str]] = field(default_factory=list)  # (time, category)


@dataclass(frozen=True)
class Appointment:
    time: datetime
    person_id: str
    unit_id: str


@dataclass
class World:
    units: dict[str, UnitState] = field(default_factory=dict)
    people: dict[str, PersonState] = field(default_factory=dict)
    appointments: list[Appointment] = field(default_factory=list)  # those that took effect

    def merge_end(self, unit_id: str) -> str:
        """Where people sent to ``unit_id`` are: the end of its merges so far."""
        seen = [unit_id]
        while (unit := self.units.get(unit_id)) is not None and unit.merged_into is not None:
            if unit.merged_into in seen:
                break
            unit_id = unit.merged_into
            seen.append(unit_id)
        return unit_id

    def chain(self, unit_id: str) -> list[str]:
        """The unit and its ancestors (registered or not), nearest first."""
        result: list[str] = []
        current: str | None = unit_id
        while current is not None and current not in result:
            result.append(current)
            unit = self.units.get(current)
            current = None if unit is None else (unit.merged_into or unit.parent_id)
        return result


def replay(events: list[CloudEvent], now: datetime) -> World:
    """Fold the events (arrival order, redeliveries included) into the world as of now."""
    keyed = [
        ((event.time, 0 if topic == UNITS_TOPIC else 1, sequence, arrival), event, data)
        for arrival, sequence, topic, event, data in taking_effect(
            events, (UNITS_TOPIC, PERSONNEL_TOPIC), now
        )
    ]
    world = World()
    for _, event, data in sorted(keyed, key=lambda item: item[0]):
        if event.type.startswith("hr.unit."):
            _apply_unit_event(world, event.type, event.subject, data)
        else:
            _apply_person_event(world, event, data)
    return world


def taking_effect(
    events: list[CloudEvent], topics: tuple[str, ...], now: datetime
) -> list[tuple[int, tuple[int, int], str, CloudEvent, Any]]:
    """(arrival, sequence key, topic, event, data) of the events of ``topics`` that take
    effect by ``now``: valid data, subject as the data says, the first arrival of each
    (source, id); an event without ``sequence`` after those with one at the same time."""
    seen: set[tuple[str, str]] = set()
    found = []
    for arrival, event in enumerate(events):
        row = EVENT_TYPES.get(event.type)
        if row is None or row.topic not in topics:
            continue
        try:
            data = row.payload.model_validate(event.data)
        except ValidationError:
            continue
        if row.subject_field and getattr(data, row.subject_field) != event.subject:
            continue
        if (event.source, event.id) in seen:
            continue
        seen.add((event.source, event.id))
        if event.time > now:
            continue
        sequence = (0, int(event.sequence)) if event.sequence is not None else (1, 0)
        found.append((arrival, sequence, row.topic, event, data))
    return found


def _end_everything_in(world: World, unit_id: str) -> None:
    for person in world.people.values():
        person.positions = {(u, r) for u, r in person.positions if u != unit_id}
        person.planning = {(u, r, p) for u, r, p in person.planning if u != unit_id}


def _apply_unit_event(world: World, type_: str, unit_id: str, data: Any) -> None:
    unit = world.units.get(unit_id)
    if type_ == "hr.unit.registered":
        parent_id = data.parent_id
        if parent_id is not None and unit_id in world.chain(parent_id):  # its own ancestor
            parent_id = None if unit is None else unit.parent_id
        if unit is None:
            world.units[unit_id] = UnitState(data.name, parent_id, str(data.level))
        else:
            unit.name, unit.parent_id, unit.level = data.name, parent_id, str(data.level)
        return
    if unit is None or unit.closed:
        return
    if type_ == "hr.unit.updated":
        if data.name is not None:
            unit.name = data.name
        if data.level is not None:
            unit.level = str(data.level)
        if data.parent_id is not None and unit_id not in world.chain(data.parent_id):
            unit.parent_id = data.parent_id
    elif type_ == "hr.unit.merged" and data.into_unit_id != unit_id:
        target = world.units.get(data.into_unit_id)
        if target is not None and unit_id in world.chain(data.into_unit_id):
            target.parent_id = unit.parent_id  # merged into a unit under it: that one moves up
        unit.closed, unit.merged_into = True, data.into_unit_id
        into = world.merge_end(data.into_unit_id)
        for person in world.people.values():
            if person.home_unit_id == unit_id:
                person.home_unit_id = into
        for child in world.units.values():
            if child.parent_id == unit_id:
                child.parent_id = data.into_unit_id
        _end_everything_in(world, unit_id)
    elif type_ == "hr.unit.dissolved":
        unit.closed = True
        for child in world.units.values():
            if child.parent_id == unit_id:
                child.parent_id = unit.parent_id
        _end_everything_in(world, unit_id)


def _apply_person_event(world: World, event: CloudEvent, data: Any) -> None:
    type_, person = event.type, world.people.get(event.subject)
    if type_ == "hr.person.registered":
        if person is None:
            world.people[event.subject] = PersonState(
                str(data.gender), data.ethnic_minority, data.unit_id
            )
        else:
            person.gender, person.ethnic_minority = str(data.gender), data.ethnic_minority
            person.home_unit_id, person.left = data.unit_id, False
        return
    if person is None:
        return
    if type_ == "hr.person.updated":
        if data.gender is not None:
            person.gender = str(data.gender)
        if data.ethnic_minority is not None:
            person.ethnic_minority = data.ethnic_minority
    elif type_ == "hr.training.completed":
        person.trainings.append((event.time, str(data.category)))
    elif person.left:
        return
    elif type_ == "hr.person.transferred":
        person.positions = {(u, r) for u, r in person.positions if u != person.home_unit_id}
        person.home_unit_id = data.unit_id
    elif type_ == "hr.person.left":
        person.left, person.positions, person.planning = True, set(), set()
    elif type_ == "hr.position.appointed":
        person.positions.add((data.unit_id, str(data.role)))
        world.appointments.append(Appointment(event.time, event.subject, data.unit_id))
    elif type_ == "hr.position.ended":
        person.positions.discard((data.unit_id, str(data.role)))
    elif type_ == "hr.planning.added":
        person.planning.add((data.unit_id, str(data.role), data.period))
    elif type_ == "hr.planning.removed":
        person.planning.discard((data.unit_id, str(data.role), data.period))


def _years_before(now: datetime, years: int) -> datetime:
    """Now's wall-clock instant ``years`` calendar years earlier; from 29 February to a
    year that has none, 1 March at midnight (the first instant that exists after it)."""
    local = now.astimezone(VIETNAM)
    try:
        return local.replace(year=local.year - years)
    except ValueError:
        return local.replace(year=local.year - years, month=3, day=1, hour=0, minute=0,
                             second=0, microsecond=0)  # fmt: skip


def _share(part: set[str], whole: set[str]) -> tuple[int, int | None]:
    return len(part), len(whole)


def indicators(
    world: World,
    now: datetime,
    config: ReferenceConfig = ReferenceConfig(),
) -> dict[str, dict[str, tuple[int, int | None]]]:
    """unit_id -> indicator id -> (numerator, denominator) for every active unit."""
    open_units = {u for u, unit in world.units.items() if not unit.closed}
    active = {
        p
        for p, person in world.people.items()
        if not person.left and person.home_unit_id in open_units
    }
    women = {p for p in active if world.people[p].gender == "female"}
    cutoff = _years_before(now, config.qualifying_training_years)
    trained = {
        p
        for p in active
        if any(
            category not in config.non_qualifying_categories and cutoff <= time <= now
            for time, category in world.people[p].trainings
        )
    }
    holders: dict[str, dict[str, set[str]]] = {u: {} for u in open_units}  # unit->role->people
    pool: dict[str, set[str]] = {u: set() for u in open_units}
    homed: dict[str, set[str]] = {u: set() for u in open_units}
    for p in active:
        person = world.people[p]
        homed[person.home_unit_id].add(p)
        for unit_id, role in person.positions:
            if unit_id in open_units:
                holders[unit_id].setdefault(role, set()).add(p)
        for unit_id, _, _ in person.planning:
            if unit_id in open_units:
                pool[unit_id].add(p)
    subtree: dict[str, set[str]] = {u: set() for u in open_units}
    for unit_id in open_units:
        for ancestor in world.chain(unit_id):
            if ancestor in subtree:
                subtree[ancestor].add(unit_id)
    year = now.astimezone(VIETNAM).year
    this_year = [
        a for a in world.appointments if a.time.astimezone(VIETNAM).year == year and a.time <= now
    ]
    floor = Fraction(str(config.planning_floor))

    def level(unit_id: str) -> str:
        return world.units[unit_id].level

    def key_leaders(unit_id: str) -> set[str]:
        return {p for role in config.key_leader_roles for p in holders[unit_id].get(role, ())}

    result: dict[str, dict[str, tuple[int, int | None]]] = {}
    for unit_id in open_units:
        units = subtree[unit_id]  # open units only
        divisions = {u for u in units if level(u) == "division"}
        agencies = {u for u in units if level(u) in ("agency", "province")}
        division_pool = {p for u in divisions for p in pool[u]}
        any_pool = {p for u in units for p in pool[u]}
        leaders = {p for u in units for people in holders[u].values() for p in people}
        heads = {p for u in units for p in holders[u].get("head", ())}
        pooled_divisions = {u for u in divisions if pool[u]}
        appointments = [a for a in this_year if a.unit_id in units]
        result[unit_id] = {
            "female_key_leader_division_share": _share(
                {u for u in divisions if key_leaders(u) & women}, divisions
            ),
            "female_key_leader_agency_share": _share(
                {u for u in agencies if key_leaders(u) & women}, agencies
            ),
            "female_share_in_division_planning_pool": _share(division_pool & women, division_pool),
            "female_share_in_planning_pool": _share(any_pool & women, any_pool),
            "trained_share_of_planned_women": _share(
                division_pool & women & trained, division_pool & women
            ),
            "units_with_female_in_planning_share": _share(
                {u for u in divisions if pool[u] & women}, divisions
            ),
            "units_meeting_planning_floor_share": _share(
                {
                    u
                    for u in pooled_divisions
                    if Fraction(len(pool[u] & women), len(pool[u])) >= floor
                },
                pooled_divisions,
            ),
            "female_leader_share": _share(leaders & women, leaders),
            "female_head_share": _share(heads & women, heads),
            "ethnic_minority_female_leaders": (
                len({p for p in leaders & women if world.people[p].ethnic_minority}),
                None,
            ),
            "female_staff_share": _share(
                {p for u in units for p in homed[u]} & women, {p for u in units for p in homed[u]}
            ),
            "female_share_of_appointments_ytd": (
                sum(1 for a in appointments if world.people[a.person_id].gender == "female"),
                len(appointments),
            ),
        }
    return result
