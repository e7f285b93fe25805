"""People (cán bộ, công chức, viên chức): the fold of one person's events into their state.

The fold takes the person's history, what is known of units (which exist, which closed
when) and "now", and returns the person's state. Closures of units the person is tied to
are put on the person's timeline as virtual events at their effective time, unit events
first at equal times, so the result is the same whatever order the two topics arrived in
(contract section 3). Events whose time has not come wait; references to units not yet
registered are applied and listed in ``pending_units`` until the unit arrives, and such a
unit counts as inactive meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from services.personnel.domain.units import Anomaly, UnitClosure, UnitDirectory
from shared.history import HistoryEntry, in_effect, next_due

UNIT_REFERENCING_TYPES = frozenset(
    {"hr.person.registered", "hr.person.transferred", "hr.position.appointed", "hr.planning.added"}
)


@dataclass(frozen=True, slots=True, order=True)
class Position:
    unit_id: str
    role: str
    since: datetime


@dataclass(frozen=True, slots=True, order=True)
class PlanningEntry:
    """A place in the succession-planning pool (quy hoạch) for a role of a unit."""

    unit_id: str
    role: str
    period: str
    since: datetime


@dataclass(frozen=True, slots=True)
class Training:
    course_id: str
    category: str
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class Appointment:
    """An applied ``hr.position.appointed`` event (counted by the appointments indicator)."""

    unit_id: str
    role: str
    time: datetime


@dataclass(frozen=True)
class PersonState:
    person_id: str
    registered: bool = False
    gender: str | None = None
    ethnic_minority: bool = False
    category: str | None = None
    birth_year: int | None = None
    home_unit_id: str | None = None
    left_reason: str | None = None
    positions: tuple[Position, ...] = ()
    planning_entries: tuple[PlanningEntry, ...] = ()
    trainings: tuple[Training, ...] = ()
    appointments: tuple[Appointment, ...] = ()
    anomalies: tuple[Anomaly, ...] = ()
    pending_units: tuple[str, ...] = ()
    next_due: datetime | None = None
    active: bool = False
    # every unit whose closure the fold looked for: those its events name, and those they
    # were merged into (a closure of any of them changes the fold)
    units_followed: tuple[str, ...] = ()


@dataclass
class _Fold:
    """The mutable accumulator of one fold; never leaves this module."""

    person_id: str
    registered: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)
    home_unit_id: str | None = None
    left_reason: str | None = None
    positions: dict[tuple[str, str], datetime] = field(default_factory=dict)
    planning: dict[tuple[str, str, str], datetime] = field(default_factory=dict)
    trainings: list[Training] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)

    @property
    def staff(self) -> bool:
        return self.registered and self.left_reason is None

    def anomaly(self, kind: str, entry: HistoryEntry, detail: str = "") -> None:
        self.anomalies.append(Anomaly(kind, entry.key, detail or entry.type))

    def apply(self, entry: HistoryEntry) -> None:
        data = entry.data
        if entry.type == "hr.person.registered":
            if self.staff:
                self.anomaly("registered_twice", entry)
            self.registered, self.left_reason = True, None
            self.attributes.update({k: v for k, v in data.items() if k != "unit_id"})
            self.home_unit_id = data["unit_id"]
            return
        if not self.registered:
            self.anomaly("person_not_registered", entry)
            return
        if self.left_reason is not None and entry.type not in RECORDED_AFTER_LEAVING:
            self.anomaly("event_after_leaving", entry)
            return
        handler = _HANDLERS[entry.type]
        handler(self, entry, data)

    def close_unit(self, closure: UnitClosure) -> None:
        unit = closure.unit_id
        self.positions = {k: v for k, v in self.positions.items() if k[0] != unit}
        self.planning = {k: v for k, v in self.planning.items() if k[0] != unit}
        if self.home_unit_id == unit:
            if closure.kind == "merged":
                self.home_unit_id = closure.into_unit_id
            elif self.staff:
                key = f"closure:{unit}"
                self.anomalies.append(Anomaly("homed_in_dissolved_unit", key, unit))


# A correction of someone who has left corrects the record the indicators read (the
# appointments of the year count by the appointee's current record); a training completed
# after leaving still happened. Nothing else changes someone who has left.
RECORDED_AFTER_LEAVING = frozenset({"hr.person.updated", "hr.training.completed"})


def _updated(fold: _Fold, entry: HistoryEntry, data: dict[str, Any]) -> None:
    fold.attributes.update(data)


def _transferred(fold: _Fold, entry: HistoryEntry, data: dict[str, Any]) -> None:
    old_home = fold.home_unit_id
    fold.positions = {k: v for k, v in fold.positions.items() if k[0] != old_home}
    fold.home_unit_id = data["unit_id"]


def _left(fold: _Fold, entry: HistoryEntry, data: dict[str, Any]) -> None:
    fold.left_reason = data["reason"]
    fold.positions.clear()
    fold.planning.clear()


def _appointed(fold: _Fold, entry: HistoryEntry, data: dict[str, Any]) -> None:
    """An appointment to a position already held is a re-appointment (bổ nhiệm lại, a new
    term): the position is unchanged, and it is an appointment all the same (contract
    section 5 counts ``hr.position.appointed`` events)."""
    position = (data["unit_id"], data["role"])
    fold.positions.setdefault(position, entry.time)
    fold.appointments.append(Appointment(data["unit_id"], data["role"], entry.time))


def _position_ended(fold: _Fold, entry: HistoryEntry, data: dict[str, Any]) -> None:
    if fold.positions.pop((data["unit_id"], data["role"]), None) is None:
        fold.anomaly("position_not_held", entry, f"{data['role']} of {data['unit_id']}")


def _planning_added(fold: _Fold, entry: HistoryEntry, data: dict[str, Any]) -> None:
    fold.planning.setdefault((data["unit_id"], data["role"], data["period"]), entry.time)


def _planning_removed(fold: _Fold, entry: HistoryEntry, data: dict[str, Any]) -> None:
    if fold.planning.pop((data["unit_id"], data["role"], data["period"]), None) is None:
        fold.anomaly("not_in_planning_pool", entry, f"{data['role']} of {data['unit_id']}")


def _training(fold: _Fold, entry: HistoryEntry, data: dict[str, Any]) -> None:
    fold.trainings.append(Training(data["course_id"], data["category"], entry.time))


_HANDLERS = {
    "hr.person.updated": _updated,
    "hr.person.transferred": _transferred,
    "hr.person.left": _left,
    "hr.position.appointed": _appointed,
    "hr.position.ended": _position_ended,
    "hr.planning.added": _planning_added,
    "hr.planning.removed": _planning_removed,
    "hr.training.completed": _training,
}


def _relevant_closures(
    entries: Sequence[HistoryEntry], directory: UnitDirectory
) -> tuple[list[UnitClosure], set[str]]:
    """Closures of the units this person's events name, and of the units those merged
    into; and all those units."""
    tied = {e.data["unit_id"] for e in entries if e.type in UNIT_REFERENCING_TYPES}
    relevant = []
    for closure in directory.closures:  # in time order, so merge chains are followed
        if closure.unit_id not in tied:
            continue
        if closure.into_unit_id is not None:
            # into the end of the chain: whatever order same-time merges are listed in
            target = directory.merge_target(closure.into_unit_id, closure.time)
            tied |= {closure.into_unit_id, target}
            closure = replace(closure, into_unit_id=target)
        relevant.append(closure)
    return relevant, tied


def fold_person(
    person_id: str, history: Sequence[HistoryEntry], directory: UnitDirectory, now: datetime
) -> PersonState:
    entries = in_effect(history, now)
    timeline: list[tuple[tuple[Any, ...], HistoryEntry | UnitClosure]] = [
        ((e.time, 1, *e.order()[1:]), e) for e in entries
    ]
    closures, followed = _relevant_closures(entries, directory)
    timeline += [((c.time, 0, c.unit_id), c) for c in closures]
    timeline.sort(key=lambda item: item[0])

    fold = _Fold(person_id)
    for _, item in timeline:
        if isinstance(item, UnitClosure):
            fold.close_unit(item)
        else:
            fold.apply(item)

    referenced = {e.data["unit_id"] for e in entries if e.type in UNIT_REFERENCING_TYPES}
    attributes = fold.attributes
    return PersonState(
        person_id=person_id,
        registered=fold.registered,
        gender=attributes.get("gender"),
        ethnic_minority=bool(attributes.get("ethnic_minority", False)),
        category=attributes.get("category"),
        birth_year=attributes.get("birth_year"),
        home_unit_id=fold.home_unit_id,
        left_reason=fold.left_reason,
        positions=tuple(sorted(Position(u, r, t) for (u, r), t in fold.positions.items())),
        planning_entries=tuple(
            sorted(PlanningEntry(u, r, p, t) for (u, r, p), t in fold.planning.items())
        ),
        trainings=tuple(fold.trainings),
        appointments=tuple(fold.appointments),
        anomalies=tuple(fold.anomalies),
        pending_units=tuple(sorted(u for u in referenced if u not in directory.registered)),
        next_due=next_due(history, now),
        active=fold.staff
        and fold.home_unit_id is not None
        and directory.is_active(fold.home_unit_id),
        units_followed=tuple(sorted(followed)),
    )
