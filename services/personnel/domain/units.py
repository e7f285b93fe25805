"""Units (đơn vị): the fold of one unit's events, and the tree derived from all units.

A unit's own state is the fold of its own events. Where it sits in the tree is derived
from every unit together: a child of a merged unit moves under the unit it merged into,
a child of a dissolved unit moves under that unit's parent (contract section 2), and a unit
whose parent has not been registered yet waits at the top with ``pending_parent`` set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from shared.history import HistoryEntry, in_effect, next_due

Closure = Literal["merged", "dissolved"]


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A data-quality problem that is the source system's fault, kept beside the data."""

    kind: str
    event_key: str
    detail: str


@dataclass(frozen=True)
class UnitState:
    unit_id: str
    registered: bool = False
    name: str | None = None
    level: str | None = None
    declared_parent_id: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None  # when it closed
    closure: Closure | None = None
    merged_into: str | None = None
    anomalies: tuple[Anomaly, ...] = ()
    next_due: datetime | None = None

    @property
    def closed(self) -> bool:
        return self.closure is not None


def fold_unit(unit_id: str, history: Sequence[HistoryEntry], now: datetime) -> UnitState:
    state = UnitState(unit_id=unit_id)
    anomalies: list[Anomaly] = []
    for entry in in_effect(history, now):
        data = entry.data
        if entry.type == "hr.unit.registered":
            if state.registered and not state.closed:
                anomalies.append(Anomaly("registered_twice", entry.key, "unit registered again"))
            state = replace(
                state,
                registered=True,
                name=data["name"],
                level=data["level"],
                declared_parent_id=data.get("parent_id"),
                valid_from=state.valid_from or entry.time,
            )
            continue
        if not state.registered:  # changes nothing: its registration is what counts
            anomalies.append(Anomaly("unit_not_registered", entry.key, f"{entry.type} first"))
            continue
        if state.closed:
            anomalies.append(Anomaly("event_after_closure", entry.key, entry.type))
            continue
        if entry.type == "hr.unit.merged" and data["into_unit_id"] == unit_id:
            anomalies.append(Anomaly("merged_into_itself", entry.key, unit_id))
            continue
        if entry.type == "hr.unit.updated":
            state = replace(
                state,
                name=data.get("name", state.name),
                level=data.get("level", state.level),
                declared_parent_id=data.get("parent_id", state.declared_parent_id),
            )
        elif entry.type == "hr.unit.merged":
            state = replace(
                state, closure="merged", merged_into=data["into_unit_id"], valid_to=entry.time
            )
        elif entry.type == "hr.unit.dissolved":
            state = replace(state, closure="dissolved", valid_to=entry.time)
    return replace(state, anomalies=tuple(anomalies), next_due=next_due(history, now))


@dataclass(frozen=True)
class Placement:
    """Where a unit sits in the tree now."""

    parent_id: str | None  # effective parent, after closures are resolved
    path: tuple[str, ...]  # ancestor ids, root first, itself excluded
    active: bool
    pending_parent: str | None = None
    anomalies: tuple[str, ...] = field(default=())


def _effective_parent(
    unit: UnitState, units: Mapping[str, UnitState]
) -> tuple[str | None, str | None, list[str]]:
    """(effective parent, parent awaited, anomalies) for one unit."""
    anomalies: list[str] = []
    parent_id = unit.declared_parent_id
    seen = {unit.unit_id}
    while parent_id is not None:
        if parent_id in seen:
            anomalies.append(f"parent cycle through {parent_id}")
            return None, None, anomalies
        seen.add(parent_id)
        parent = units.get(parent_id)
        if parent is None or not parent.registered:
            return None, parent_id, anomalies
        if parent.closure == "merged" and parent.merged_into == unit.unit_id:
            parent_id = parent.declared_parent_id  # merged into its child: it takes the place
        elif parent.closure == "merged":
            parent_id = parent.merged_into
        elif parent.closure == "dissolved":
            parent_id = parent.declared_parent_id
        else:
            return parent_id, None, anomalies
    return None, None, anomalies


def derive_tree(units: Mapping[str, UnitState]) -> dict[str, Placement]:
    """The placement of every registered unit."""
    parents: dict[str, tuple[str | None, str | None, list[str]]] = {
        unit_id: _effective_parent(unit, units)
        for unit_id, unit in units.items()
        if unit.registered
    }
    placements: dict[str, Placement] = {}

    def path_of(unit_id: str, trail: frozenset[str]) -> tuple[str, ...]:
        if unit_id in placements:
            return (*placements[unit_id].path, unit_id)
        parent_id = parents[unit_id][0]
        if parent_id is None or parent_id in trail or parent_id not in parents:
            return (unit_id,)
        return (*path_of(parent_id, trail | {unit_id}), unit_id)

    for unit_id in sorted(parents):
        parent_id, pending, anomalies = parents[unit_id]
        placements[unit_id] = Placement(
            parent_id=parent_id,
            path=path_of(unit_id, frozenset())[:-1],
            active=not units[unit_id].closed,
            pending_parent=pending,
            anomalies=tuple(anomalies),
        )
    return placements


@dataclass(frozen=True, slots=True)
class UnitClosure:
    """A closure as the people fold sees it: a virtual event on the person's timeline."""

    unit_id: str
    time: datetime
    kind: Closure
    into_unit_id: str | None


@dataclass(frozen=True)
class UnitDirectory:
    """What the people fold needs to know about units: which exist, and which closed when."""

    registered: frozenset[str]
    closures: tuple[UnitClosure, ...]
    closed: frozenset[str]
    merges: Mapping[str, UnitClosure] = field(default_factory=dict)  # by the merged unit

    @staticmethod
    def of(units: Mapping[str, UnitState]) -> UnitDirectory:
        closures = tuple(
            sorted(
                (
                    UnitClosure(u.unit_id, u.valid_to, u.closure, u.merged_into)
                    for u in units.values()
                    if u.closure is not None and u.valid_to is not None
                ),
                key=lambda c: (c.time, c.unit_id),
            )
        )
        return UnitDirectory(
            registered=frozenset(u.unit_id for u in units.values() if u.registered),
            closures=closures,
            closed=frozenset(c.unit_id for c in closures),
            merges={c.unit_id: c for c in closures if c.into_unit_id is not None},
        )

    def merge_target(self, unit_id: str, at: datetime) -> str:
        """Where what was in ``unit_id`` is at ``at``: the end of its chain of merges by then
        (a unit merged into one merged away at the same time, or before, goes on)."""
        seen = {unit_id}
        while (merge := self.merges.get(unit_id)) is not None and merge.time <= at:
            if merge.into_unit_id is None or merge.into_unit_id in seen:
                break
            unit_id = merge.into_unit_id
            seen.add(unit_id)
        return unit_id

    def is_active(self, unit_id: str) -> bool:
        return unit_id in self.registered and unit_id not in self.closed
