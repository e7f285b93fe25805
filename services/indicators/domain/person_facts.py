"""What the indicator service keeps of a person: the facts a contribution reads (pure).

A ``PersonChanged`` event carries a person's whole state (anomalies, dates of positions,
course ids, pending references) as pydantic models: about 2.5 KB a person in memory. The
tally keeps every person of the province so that a change of the tree can re-derive every
contribution; at 68,000 people that was 169 MB of models. :class:`PersonFacts` keeps only
what :func:`~.contributions.person_contribution` reads, in tuples, with the ids and names
interned (every person of a unit shares one string for its id) and the instants parsed
once.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime

from shared.clock import VIETNAM
from shared.internal import PersonChanged


@dataclass(frozen=True, slots=True)
class PersonFacts:
    person_id: str
    revision: int
    # registered, not left, with a home unit (whether that unit is active is the tree's)
    on_staff: bool
    home_unit_id: str | None
    female: bool
    ethnic_minority: bool
    positions: tuple[tuple[str, str], ...]  # (unit, role)
    pools: tuple[str, ...]  # the units of the person's planning entries
    trainings: tuple[tuple[str, datetime], ...]  # (category, completed at)
    appointments: tuple[tuple[str, datetime], ...]  # (unit, local time in Vietnam)

    @classmethod
    def of(cls, person: PersonChanged) -> PersonFacts:
        intern = sys.intern
        return cls(
            person_id=person.person_id,
            revision=person.revision,
            on_staff=person.registered
            and person.left_reason is None
            and person.home_unit_id is not None,
            home_unit_id=intern(person.home_unit_id) if person.home_unit_id else None,
            female=person.gender == "female",
            ethnic_minority=person.ethnic_minority,
            positions=tuple((intern(p.unit_id), intern(p.role)) for p in person.positions),
            pools=tuple(intern(e.unit_id) for e in person.planning_entries),
            trainings=tuple(
                (intern(t.category), datetime.fromisoformat(t.completed_at))
                for t in person.trainings
            ),
            appointments=tuple(
                (intern(a.unit_id), datetime.fromisoformat(a.time).astimezone(VIETNAM))
                for a in person.appointments
            ),
        )

    def units_named(self) -> set[str]:
        """Every unit the facts name: a change of any of them may change the contribution
        (whether it is active, its level, its place in the tree), of no other can."""
        return {
            *((self.home_unit_id,) if self.home_unit_id else ()),
            *(unit_id for unit_id, _ in self.positions),
            *self.pools,
            *(unit_id for unit_id, _ in self.appointments),
        }
