"""The province in memory: the facts, and counters kept current by differences (pure).

:class:`Tally` holds the latest facts of every person, unit and unit's inspections (each
with the revision it came with: an older or repeated fact changes nothing), the
contribution of each person and unit (see :mod:`.contributions`), and their sums. A
person's new facts change the counters by the difference of their contribution; a unit
contributes from its own counters, so units whose ``here_*`` counters moved are
re-evaluated next. A changed unit (opened, closed, moved, renamed) re-derives itself and
the people whose facts name it (:meth:`Tally.refresh_units`). A new year re-derives
everything: a full rebuild of 68,000 people in 8,400 units takes about 2 s, which
:meth:`Tally.rebuilding` cuts into steps for a caller that must stay responsive.

Every method returns the units whose counters changed: the ones whose indicators must be
looked at again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from services.indicators.domain.contributions import (
    Contribution,
    Key,
    Rules,
    person_contribution,
    unit_contribution,
)
from services.indicators.domain.due import DueTimes
from services.indicators.domain.person_facts import PersonFacts
from shared.clock import VIETNAM
from shared.internal import PersonChanged, UnitChanged, UnitInspectionStatus
from shared.organisation import Organisation

PAUSE_EVERY = 1000  # people or units re-derived between two pauses of Tally.rebuilding

Steps = Generator[None, None, set[str]]  # pauses (yields None), then returns the units changed
Part = tuple[Key, ...]  # a contribution as stored (see Tally._people_parts)


def advance(steps: Steps) -> set[str] | None:
    """One step: None at a pause, what the steps return once they are finished."""
    try:
        next(steps)
    except StopIteration as done:
        changed: set[str] = done.value
        return changed
    return None


def finish(steps: Steps) -> set[str]:
    """Run the steps through without pausing; what they return."""
    while (changed := advance(steps)) is None:
        pass
    return changed


def _units_of(keys: set[Key]) -> set[str]:
    return {unit_id for unit_id, _ in keys}


@dataclass
class Tally:
    rules: Rules = field(default_factory=Rules)
    organisation: Organisation = field(default_factory=Organisation)
    people: dict[str, PersonFacts] = field(default_factory=dict)
    inspections: dict[str, UnitInspectionStatus] = field(default_factory=dict)
    counters: Counter[Key] = field(default_factory=Counter)
    year: int = 0
    # Each person's and unit's contribution, kept as the tuple of its keys (a key twice
    # counts two) over the one copy of each key in ``_keys``: at 68,000 people, Counters of
    # keys of their own took 63 MB, these tuples about a third of it.
    _people_parts: dict[str, Part] = field(default_factory=dict)
    _unit_parts: dict[str, Part] = field(default_factory=dict)
    _keys: dict[Key, Key] = field(default_factory=dict)  # the keys of the counters, shared
    _naming: dict[str, set[str]] = field(default_factory=dict)  # unit -> people naming it
    _due: DueTimes = field(default_factory=DueTimes)  # when contributions change by themselves

    def __post_init__(self) -> None:
        for person in self.people.values():
            self._index(set(), person)

    @classmethod
    def of(
        cls,
        *,
        units: Iterable[UnitChanged],
        people: Iterable[PersonChanged | PersonFacts],
        inspections: Iterable[UnitInspectionStatus],
        rules: Rules,
        now: datetime,
    ) -> Tally:
        """A tally built from scratch from the given facts."""
        tally = cls.holding(units=units, people=people, inspections=inspections, rules=rules)
        tally.rebuild(now)
        return tally

    @classmethod
    def holding(
        cls,
        *,
        units: Iterable[UnitChanged],
        people: Iterable[PersonChanged | PersonFacts],
        inspections: Iterable[UnitInspectionStatus],
        rules: Rules,
    ) -> Tally:
        """A tally holding the given facts, with nothing derived yet (see :meth:`rebuilding`)."""
        tally = cls(rules=rules)
        for unit in units:
            tally.put_unit(unit)
        for person in people:
            tally.put_person(person)
        for status in inspections:
            tally.put_inspection(status)
        return tally

    # --- facts ------------------------------------------------------------------------------

    def put_person(self, person: PersonChanged | PersonFacts) -> bool:
        """Keep the person's facts (a change event is kept as its :class:`PersonFacts`)
        unless they are older than the known ones; True when they are newer."""
        known = self.people.get(person.person_id)
        if known is not None and known.revision >= person.revision:
            return False
        facts = PersonFacts.of(person) if isinstance(person, PersonChanged) else person
        self.people[person.person_id] = facts
        self._index(known.units_named() if known is not None else set(), facts)
        return True

    def _index(self, before: set[str], person: PersonFacts) -> None:
        """Keep ``_naming`` current: the person named ``before``, and names what it does now."""
        after = person.units_named()
        for unit_id in before - after:
            naming = self._naming[unit_id]
            naming.discard(person.person_id)
            if not naming:
                del self._naming[unit_id]
        for unit_id in after - before:
            self._naming.setdefault(unit_id, set()).add(person.person_id)

    def put_unit(self, unit: UnitChanged) -> bool:
        return self.organisation.apply(unit)

    def put_inspection(self, status: UnitInspectionStatus) -> bool:
        known = self.inspections.get(status.unit_id)
        if known is not None and known.revision >= status.revision:
            return False
        self.inspections[status.unit_id] = status
        return True

    # --- counters ---------------------------------------------------------------------------

    def rebuild(self, now: datetime) -> set[str]:
        """Derive every contribution again; the units whose counters changed."""
        return finish(self.rebuilding(now))

    def rebuilding(self, now: datetime, *, pause_every: int = PAUSE_EVERY) -> Steps:
        """:meth:`rebuild` in steps: it pauses every ``pause_every`` people and units, so that
        a caller on an event loop can let its other tasks run meanwhile (a Kafka consumer's
        heartbeat: a consumer silent for its session timeout is put out of its group). The
        tally is inconsistent until the steps are finished; the caller holds it meanwhile."""
        before = self.counters
        self.counters = Counter()
        self.year = now.astimezone(VIETNAM).year
        self._people_parts.clear()
        self._unit_parts.clear()
        self._keys = {}
        self._due.clear()
        for count, person_id in enumerate(self.people, start=1):
            self._take_person(person_id, now)
            if count % pause_every == 0:
                yield
        for count, unit_id in enumerate(self.organisation.units, start=1):
            self._take_unit(unit_id)
            if count % pause_every == 0:
                yield
        changed = {k for k in before.keys() | self.counters.keys() if before[k] != self.counters[k]}
        return _units_of(changed)

    def refresh_people(self, person_ids: set[str], now: datetime) -> set[str]:
        """Re-derive the named people's contributions (their facts changed or aged)."""
        return self._refresh(person_ids, set(), now)

    def refresh_units(self, unit_ids: set[str], now: datetime) -> set[str]:
        """Re-derive what depends on the named units: their own contributions (their
        inspections changed), and those of the people naming them (the units themselves
        changed: opened, closed, moved).

        Nothing else can change: a contribution reads the tree only through the units it
        names, and each unit's state carries its whole path. So this equals a rebuild, at
        the cost of the people concerned instead of the whole province."""
        people = {p for unit_id in unit_ids for p in self._naming.get(unit_id, ())}
        return self._refresh(people, unit_ids, now)

    def _refresh(self, person_ids: set[str], unit_ids: set[str], now: datetime) -> set[str]:
        if self.in_a_new_year(now):
            return self.rebuild(now)
        changed: set[Key] = set()
        for person_id in person_ids:
            changed |= self._take_person(person_id, now)
        own_counters_moved = {unit_id for unit_id, name in changed if name.startswith("here_")}
        return self._settle_units(own_counters_moved | unit_ids, changed)

    def in_a_new_year(self, now: datetime) -> bool:
        """``now`` is in another local year than the one the counters were derived for."""
        return now.astimezone(VIETNAM).year != self.year

    def due(self, now: datetime) -> set[str]:
        """People whose contribution changes by itself at or before ``now``."""
        return self._due.due(now)

    def _settle_units(self, units: set[str], changed: set[Key]) -> set[str]:
        for unit_id in units:
            changed |= self._take_unit(unit_id)
        return _units_of(changed)

    def _take_person(self, person_id: str, now: datetime) -> set[Key]:
        person = self.people.get(person_id)
        if person is None:
            return set()
        new, valid_until = person_contribution(person, self.organisation, now, self.rules)
        self._due.put(person_id, valid_until)
        return self._replace(self._people_parts, person_id, new)

    def _take_unit(self, unit_id: str) -> set[Key]:
        unit = self.organisation.get(unit_id)
        if unit is None:
            return set()
        new = unit_contribution(
            unit,
            self.counters,
            self.inspections.get(unit_id),
            self.year,
            self.organisation,
            self.rules,
        )
        return self._replace(self._unit_parts, unit_id, new)

    def _replace(self, parts: dict[str, Part], owner: str, new: Contribution) -> set[Key]:
        old = Counter(parts.get(owner, ()))
        if old == new:
            return set()
        changed = set()
        for key in old.keys() | new.keys():
            delta = new[key] - old[key]
            if delta:
                count = self.counters[key] + delta
                if count:
                    self.counters[key] = count
                else:  # no part holds the key any more: every part is positive
                    del self.counters[key]
                    self._keys.pop(key, None)
                changed.add(key)
        if new:
            parts[owner] = tuple(self._keys.setdefault(key, key) for key in new.elements())
        else:
            parts.pop(owner, None)
        return changed
