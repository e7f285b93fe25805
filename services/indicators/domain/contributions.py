"""What one person, or one unit, adds to the counters of the units above it (pure).

Every indicator of contract section 5 is a ratio of two counters kept per unit over its
subtree. A person *contributes* to counters: an active woman heading a division adds 1 to
``female_leader`` of that division and of each of its ancestors, once per unit however many
positions she holds there (a contribution is a set of (unit, counter) keys, so shares count
distinct people, never entries). Appointments are events, not people: they add one per
appointment. A unit contributes to its ancestors too, from its own local counters (a
division "has a woman among its key leaders" when its ``here_female_key`` counter is
positive). The tally (:mod:`.tally`) keeps the sums and applies differences of these
contributions; this module only says what they are.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from services.indicators.domain.person_facts import PersonFacts
from shared.clock import VIETNAM
from shared.internal import UnitChanged, UnitInspectionStatus
from shared.organisation import Organisation

Key = tuple[str, str]  # (unit_id, counter name)
Contribution = Counter[Key]
EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True)
class Rules:
    """The configurable readings of contract section 5."""

    key_leader_roles: frozenset[str] = frozenset({"head", "deputy_head"})
    qualifying_training_years: int = 5
    non_qualifying_training_categories: frozenset[str] = frozenset({"other"})
    planning_floor: Fraction = Fraction(1, 4)  # women / pool, inclusive


def _years_later(local: datetime, years: int) -> datetime:
    """The same wall-clock instant ``years`` calendar years later (29 February → 1 March:
    the first instant at which a training of 29 February is more than ``years`` old)."""
    try:
        return local.replace(year=local.year + years)
    except ValueError:
        return (
            local.replace(
                year=local.year + years, month=3, day=1, hour=0, minute=0, second=0, microsecond=0
            )
            - EPSILON
        )


def training_expiry(completed_at: datetime, rules: Rules) -> datetime:
    """The first instant at which a training no longer qualifies by age: the contract's
    threshold, ``now``'s wall-clock instant N calendar years earlier, has passed it. From 29
    February to a year without one that instant is read as 1 March at 00:00, the first
    that exists after it, so a training stays out once it is out."""
    local = completed_at.astimezone(VIETNAM)
    return _years_later(local, rules.qualifying_training_years) + EPSILON


def is_qualifying(category: str, completed_at: datetime, now: datetime, rules: Rules) -> bool:
    if category in rules.non_qualifying_training_categories:
        return False
    return completed_at <= now < training_expiry(completed_at, rules)


def person_is_active(person: PersonFacts, organisation: Organisation) -> bool:
    """Registered, not left, with an active home unit (contract section 5)."""
    return (
        person.on_staff
        and person.home_unit_id is not None
        and organisation.is_active(person.home_unit_id)
    )


def _over(keys: set[Key], units: set[str], name: str, organisation: Organisation) -> None:
    for unit_id in units:
        keys.update((ancestor, name) for ancestor in organisation.ancestors_and_self(unit_id))


def person_contribution(
    person: PersonFacts, organisation: Organisation, now: datetime, rules: Rules
) -> tuple[Contribution, datetime | None]:
    """The person's contribution now, and the instant it next changes by itself (a training
    ageing out, the year's appointments lapsing at the new year) or None."""
    keys: set[Key] = set()
    female = person.female
    valid_until: list[datetime] = []
    if person_is_active(person, organisation):
        positions = [(u, role) for u, role in person.positions if organisation.is_active(u)]
        leading = {u for u, _ in positions}
        heading = {u for u, role in positions if role == "head"}
        keyed = {u for u, role in positions if role in rules.key_leader_roles}
        _over(keys, leading, "leader", organisation)
        _over(keys, heading, "head", organisation)
        if female:
            _over(keys, leading, "female_leader", organisation)
            _over(keys, heading, "female_head", organisation)
            keys.update((unit_id, "here_female_key") for unit_id in keyed)
            if person.ethnic_minority:
                _over(keys, leading, "em_female_leader", organisation)

        pools = {u for u in person.pools if organisation.is_active(u)}
        division_pools = {u for u in pools if _level(organisation, u) == "division"}
        _over(keys, pools, "pooled", organisation)
        _over(keys, division_pools, "div_pooled", organisation)
        keys.update((unit_id, "here_pool") for unit_id in pools)
        if female:
            _over(keys, pools, "female_pooled", organisation)
            _over(keys, division_pools, "female_div_pooled", organisation)
            keys.update((unit_id, "here_pool_female") for unit_id in pools)
            trained = [
                training_expiry(completed, rules)
                for category, completed in person.trainings
                if is_qualifying(category, completed, now, rules)
            ]
            if trained and division_pools:
                _over(keys, division_pools, "trained_female_div_pooled", organisation)
            valid_until.extend(trained)
            # one dated after now (the personnel host's clock ahead of ours) counts from then
            valid_until.extend(
                completed
                for category, completed in person.trainings
                if completed > now and category not in rules.non_qualifying_training_categories
            )

        home = {person.home_unit_id} if person.home_unit_id else set()
        _over(keys, home, "staff", organisation)
        if female:
            _over(keys, home, "female_staff", organisation)

    contribution: Contribution = Counter(dict.fromkeys(keys, 1))
    year = now.astimezone(VIETNAM).year
    for unit_id, local in person.appointments:
        if local.year != year or not organisation.is_active(unit_id):
            continue
        valid_until.append(
            local.replace(year=year + 1, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        )
        for ancestor in organisation.ancestors_and_self(unit_id):
            contribution[(ancestor, "appointments")] += 1
            if female:
                contribution[(ancestor, "female_appointments")] += 1
    return contribution, min(valid_until, default=None)


def _level(organisation: Organisation, unit_id: str) -> str | None:
    unit = organisation.get(unit_id)
    return unit.level if unit else None


def unit_contribution(
    unit: UnitChanged,
    local: Counter[Key],
    inspection: UnitInspectionStatus | None,
    year: int,
    organisation: Organisation,
    rules: Rules,
) -> Contribution:
    """What a unit adds to itself and its ancestors, from its own counters and inspections.

    ``local`` holds the unit's ``here_*`` counters. Only an active unit contributes: a
    recommendation to a unit since closed counts nowhere, like the people homed there.
    """
    names: list[str] = []
    uid = unit.unit_id
    if unit.registered and unit.active:
        has_female_key = local[(uid, "here_female_key")] > 0
        if unit.level == "division":
            pool, women = local[(uid, "here_pool")], local[(uid, "here_pool_female")]
            names.append("divisions")
            names += ["div_female_key"] if has_female_key else []
            names += ["div_pool_female"] if women > 0 else []
            if pool > 0:
                names.append("div_pool_nonempty")
                names += ["div_floor_met"] if Fraction(women, pool) >= rules.planning_floor else []
            if inspection is not None and year in inspection.inspected_years:
                names.append("div_inspected")
        elif unit.level in ("agency", "province"):
            names.append("agencies")
            names += ["agency_female_key"] if has_female_key else []
    contribution: Contribution = Counter()
    chain = organisation.ancestors_and_self(uid)
    for ancestor in chain:
        for name in names:
            contribution[(ancestor, name)] += 1
    if inspection is not None and unit.registered and unit.active:
        overdue = sum(1 for r in inspection.open_recommendations if r.overdue)
        for ancestor in chain:
            contribution[(ancestor, "open_recommendations")] += len(inspection.open_recommendations)
            contribution[(ancestor, "overdue_recommendations")] += overdue
    return +contribution  # drops zero counts
