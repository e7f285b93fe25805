"""Units (đơn vị): the fold of one unit's events, and the tree derived from all units.

A unit's own state is the fold of its own events. Where it sits in the tree is derived
from every unit together: a child of a merged unit moves under the unit it merged into,
a child of a dissolved unit moves under that unit's parent (contract section 2), and a unit
whose parent has not been registered yet waits at the top with ``pending_parent`` set.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

from shared.history import HistoryEntry, in_effect, next_due

Closure = Literal["merged", "dissolved"]


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A data-quality problem that is the source system's fault, kept beside the data."""

    kind: str
    event_key: str
    detail: str


@dataclass(frozen=True, slots=True)
class ParentDeclaration:
    """An event that put the unit under ``parent_id`` (None: at the top)."""

    time: datetime
    event_key: str
    parent_id: str | None


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
    parent_declarations: tuple[ParentDeclaration, ...] = ()  # in the order they took effect

    @property
    def closed(self) -> bool:
        return self.closure is not None


def fold_unit(unit_id: str, history: Sequence[HistoryEntry], now: datetime) -> UnitState:
    state = UnitState(unit_id=unit_id)
    anomalies: list[Anomaly] = []
    declarations: list[ParentDeclaration] = []
    for entry in in_effect(history, now):
        data = entry.data
        if entry.type == "hr.unit.registered":
            declarations.append(ParentDeclaration(entry.time, entry.key, data.get("parent_id")))
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
            if "parent_id" in data:
                declarations.append(ParentDeclaration(entry.time, entry.key, data["parent_id"]))
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
    return replace(
        state,
        anomalies=tuple(anomalies),
        next_due=next_due(history, now),
        parent_declarations=tuple(declarations),
    )


@dataclass(frozen=True)
class Placement:
    """Where a unit sits in the tree now."""

    parent_id: str | None  # effective parent, after closures are resolved
    path: tuple[str, ...]  # ancestor ids, root first, itself excluded
    active: bool
    pending_parent: str | None = None
    anomalies: tuple[Anomaly, ...] = field(default=())


def derive_tree(units: Mapping[str, UnitState]) -> dict[str, Placement]:
    """The placement of every registered unit. A unit is never its own ancestor:

    - a declared parent that would make the unit its own ancestor is refused and changes
      nothing, the declaration before it stands: a cycle can only be the source system's
      mistake, and the declarations are judged in the order they took effect, so of two
      units put under each other the first keeps its place (an anomaly of the unit);
    - a unit merged into a unit under it leaves that unit in its place (contract section 2
      moves the merged unit's children to ``into_unit_id``, which cannot go under itself).
    """
    registered = {u: s for u, s in units.items() if s.registered}
    declared, anomalies = _declared_parents(registered)
    links = {u: _effective_parent(u, declared, registered) for u in registered}
    paths = _paths({u: link.parent_id for u, link in links.items()})
    return {
        unit_id: Placement(
            parent_id=link.parent_id,
            path=paths[unit_id],
            active=not registered[unit_id].closed,
            pending_parent=link.pending_parent,
            anomalies=tuple(anomalies.get(unit_id, ())),
        )
        for unit_id, link in sorted(links.items())
    }


_EARLIEST = datetime.min.replace(tzinfo=UTC)


def _declared_parents(
    units: Mapping[str, UnitState],
) -> tuple[dict[str, str | None], defaultdict[str, list[Anomaly]]]:
    """Each unit's parent after every declaration, merge and dissolution, replayed in the
    order they took effect (a closure moves the children it has then), and the
    declarations refused. At one instant, declarations come before closures (a unit
    registered and merged at once had its children first), each kind by event key."""
    steps: list[tuple[datetime, int, str, str, ParentDeclaration | Closure]] = [
        (declaration.time, 0, declaration.event_key, unit_id, declaration)
        for unit_id, unit in units.items()
        for declaration in unit.parent_declarations
        or [ParentDeclaration(unit.valid_from or _EARLIEST, "", unit.declared_parent_id)]
    ]
    steps += [
        (unit.valid_to, 1, "", unit_id, unit.closure)
        for unit_id, unit in units.items()
        if unit.closure is not None and unit.valid_to is not None
    ]
    declared: dict[str, str | None] = {}
    children: defaultdict[str | None, set[str]] = defaultdict(set)
    merged: dict[str, str] = {}
    refused: defaultdict[str, list[Anomaly]] = defaultdict(list)

    def put(unit_id: str, parent_id: str | None) -> None:
        children[declared.get(unit_id)].discard(unit_id)
        declared[unit_id] = parent_id
        children[parent_id].add(unit_id)

    for *_, unit_id, step in sorted(steps, key=lambda step: step[:4]):
        if isinstance(step, ParentDeclaration):
            if step.parent_id is None or unit_id not in _chain(step.parent_id, declared, merged):
                put(unit_id, step.parent_id)
            else:
                detail = f"under {step.parent_id} it would be its own ancestor"
                refused[unit_id].append(Anomaly("parent_cycle", step.event_key, detail))
            continue
        new_parent = declared.get(unit_id)
        into = units[unit_id].merged_into
        if step == "merged" and into is not None:
            if into in units and unit_id in _chain(into, declared, merged):
                put(into, declared.get(unit_id))  # merged into a unit under it
            merged[unit_id], new_parent = into, into
        for child in sorted(children[unit_id]):
            put(child, new_parent)
    return declared, refused


def _chain(unit_id: str, declared: Mapping[str, str | None], merged: Mapping[str, str]) -> set[str]:
    """The unit and every unit above it (a merged unit leads to the one it merged into)."""
    seen: set[str] = set()
    current: str | None = unit_id
    while current is not None and current not in seen:
        seen.add(current)
        current = merged[current] if current in merged else declared.get(current)
    return seen


@dataclass(frozen=True, slots=True)
class _Link:
    parent_id: str | None  # effective parent: open, registered
    pending_parent: str | None  # declared, not registered yet


def _effective_parent(
    unit_id: str, declared: Mapping[str, str | None], units: Mapping[str, UnitState]
) -> _Link:
    """The first open unit above ``unit_id`` (placed under a closed unit after it closed:
    through a merged unit to the one it merged into, a dissolved one to its parent)."""
    parent_id, seen = declared.get(unit_id), {unit_id}
    while parent_id is not None and parent_id not in seen:
        seen.add(parent_id)
        parent = units.get(parent_id)
        if parent is None:
            return _Link(None, parent_id)
        if parent.closure == "merged":
            parent_id = parent.merged_into
        elif parent.closure == "dissolved":
            parent_id = declared.get(parent_id)
        else:
            return _Link(parent_id, None)
    return _Link(None, None)  # the top, or closed units in a loop


def _paths(parents: Mapping[str, str | None]) -> dict[str, tuple[str, ...]]:
    """Each unit's ancestors, root first, from parent links without cycles."""
    paths: dict[str, tuple[str, ...]] = {}
    for start in parents:
        walk: list[str] = []
        current: str | None = start
        while current is not None and current in parents and current not in paths:
            if len(walk) > len(parents):  # the replay of the declarations refused every one
                raise ValueError(f"a cycle of parents through {current}")
            walk.append(current)
            current = parents[current]
        above = () if current is None or current not in paths else (*paths[current], current)
        for unit_id in reversed(walk):
            paths[unit_id] = above
            above = (*above, unit_id)
    return paths


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
