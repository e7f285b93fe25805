"""What inspections say about units: each unit's own facts, and their roll-up over subtrees.

An inspection contributes to every unit it names (a :class:`Contribution`); a unit's own
facts are the sum of the contributions of every inspection (:func:`own_facts`), which is
what the service publishes for the indicator and notification services. The roll-up over a
unit's subtree (:func:`rollups`) is for people and the annual report: it counts the active
units of the subtree as the organisation tree stands now.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from services.inspections.domain.inspection import InspectionState
from shared.internal import UnitChanged


@dataclass(frozen=True, slots=True, order=True)
class OpenItem:
    """An unresolved recommendation to a unit (open or overdue)."""

    due: date
    inspection_id: str
    recommendation_id: str
    overdue: bool


@dataclass(frozen=True)
class Contribution:
    """What one inspection says about one unit."""

    unit_id: str
    inspection_id: str
    planned_year: int | None  # the inspection covers the unit (and is not cancelled)
    inspected_on: date | None
    open_recommendations: tuple[OpenItem, ...]
    findings: tuple[tuple[str, str], ...]  # (severity, topic) per finding


def named_units(state: InspectionState) -> tuple[str, ...]:
    """Every unit the inspection's state names: inspected ones and those of its findings
    and recommendations."""
    named = dict.fromkeys(state.plan.unit_ids if state.plan else ())
    named.update(dict.fromkeys(f.unit_id for f in state.findings))
    named.update(dict.fromkeys(r.unit_id for r in state.recommendations))
    return tuple(named)


def contributions(state: InspectionState, today: date) -> tuple[Contribution, ...]:
    """The inspection's contribution to each unit it names; none while pending or cancelled."""
    if not state.counted or state.plan is None:
        return ()
    plan = state.plan
    inspected_on = state.inspected_on()
    result = []
    for unit_id in named_units(state):
        covered = unit_id in plan.unit_ids
        result.append(
            Contribution(
                unit_id=unit_id,
                inspection_id=state.inspection_id,
                planned_year=plan.planned_start.year if covered else None,
                inspected_on=inspected_on if covered else None,
                open_recommendations=tuple(
                    sorted(
                        OpenItem(
                            r.due,
                            state.inspection_id,
                            r.recommendation_id,
                            r.status(today) == "overdue",
                        )
                        for r in state.recommendations
                        if r.unit_id == unit_id and r.unresolved
                    )
                ),
                findings=tuple(
                    (f.severity, f.topic) for f in state.findings if f.unit_id == unit_id
                ),
            )
        )
    return tuple(result)


@dataclass(frozen=True)
class UnitFacts:
    """A unit's own inspection facts (not its subtree's)."""

    unit_id: str
    inspections: tuple[tuple[str, int], ...] = ()  # (inspection id, planned year), covering it
    last_inspected_on: date | None = None
    open_recommendations: tuple[OpenItem, ...] = ()
    findings_by_severity: tuple[tuple[str, int], ...] = ()
    findings_by_topic: tuple[tuple[str, int], ...] = ()

    @property
    def inspected_years(self) -> list[int]:
        return sorted({year for _, year in self.inspections})

    @property
    def empty(self) -> bool:
        return self == UnitFacts(self.unit_id)


def own_facts(unit_id: str, parts: Iterable[Contribution]) -> UnitFacts:
    mine = [c for c in parts if c.unit_id == unit_id]
    inspected = [c.inspected_on for c in mine if c.inspected_on is not None]
    severities = Counter(s for c in mine for s, _ in c.findings)
    topics = Counter(t for c in mine for _, t in c.findings)
    return UnitFacts(
        unit_id=unit_id,
        inspections=tuple(
            sorted((c.inspection_id, c.planned_year) for c in mine if c.planned_year is not None)
        ),
        last_inspected_on=max(inspected, default=None),
        open_recommendations=tuple(sorted(r for c in mine for r in c.open_recommendations)),
        findings_by_severity=tuple(sorted(severities.items())),
        findings_by_topic=tuple(sorted(topics.items())),
    )


@dataclass(frozen=True)
class InspectionSummary:
    inspections_this_year: int = 0  # distinct inspections planned to start this year
    last_inspected_on: date | None = None
    open_recommendations: int = 0  # unresolved, overdue ones included
    overdue_recommendations: int = 0
    findings_by_severity: tuple[tuple[str, int], ...] = ()
    findings_by_topic: tuple[tuple[str, int], ...] = ()


def summarise(facts: Iterable[UnitFacts], year: int) -> InspectionSummary:
    facts = list(facts)
    severities: Counter[str] = Counter()
    topics: Counter[str] = Counter()
    for fact in facts:
        severities.update(dict(fact.findings_by_severity))
        topics.update(dict(fact.findings_by_topic))
    dates = [f.last_inspected_on for f in facts if f.last_inspected_on is not None]
    recommendations = [r for f in facts for r in f.open_recommendations]
    return InspectionSummary(
        inspections_this_year=len({i for f in facts for i, y in f.inspections if y == year}),
        last_inspected_on=max(dates, default=None),
        open_recommendations=len(recommendations),
        overdue_recommendations=sum(1 for r in recommendations if r.overdue),
        findings_by_severity=tuple(sorted(severities.items())),
        findings_by_topic=tuple(sorted(topics.items())),
    )


@dataclass(frozen=True)
class UnitRollup:
    """A unit's inspection status, its own and over its subtree (active units only)."""

    unit_id: str
    name: str | None
    level: str | None
    parent_id: str | None
    active: bool
    year: int  # the local calendar year "this year" refers to
    own: InspectionSummary
    subtree: InspectionSummary
    divisions: int  # active division units in the subtree
    divisions_inspected: int  # of which covered by an inspection planned to start this year


def rollups(
    units: Mapping[str, UnitChanged],
    facts: Mapping[str, UnitFacts],
    year: int,
    targets: Iterable[str] | None = None,
) -> dict[str, UnitRollup]:
    """The roll-up of every target unit (every known unit when ``targets`` is None)."""
    wanted = set(units) | set(facts) if targets is None else set(targets)
    below: dict[str, list[UnitFacts]] = {u: [] for u in wanted}
    divisions: Counter[str] = Counter()
    inspected: Counter[str] = Counter()
    for unit in units.values():
        if not (unit.registered and unit.active):
            continue
        chain = [unit.unit_id, *unit.path]
        fact = facts.get(unit.unit_id)
        is_division = unit.level == "division"
        covered = fact is not None and year in fact.inspected_years
        for ancestor in chain:
            if ancestor not in below:
                continue
            if fact is not None:
                below[ancestor].append(fact)
            divisions[ancestor] += is_division
            inspected[ancestor] += is_division and covered
    result = {}
    for unit_id in wanted:
        known = units.get(unit_id)
        own = facts.get(unit_id, UnitFacts(unit_id))
        result[unit_id] = UnitRollup(
            unit_id=unit_id,
            name=known.name if known else None,
            level=known.level if known else None,
            parent_id=known.parent_id if known else None,
            active=bool(known and known.registered and known.active),
            year=year,
            own=summarise([own], year),
            subtree=summarise(below[unit_id], year),
            divisions=divisions[unit_id],
            divisions_inspected=inspected[unit_id],
        )
    return result
