"""A unit's indicators from the tally's counters, with their targets (pure).

Each indicator of contract section 5 is (numerator counter, denominator counter); a count
has no denominator. ``value`` is the fraction, or None when the denominator is 0; a target
is met when the value reaches it (compared as exact fractions: 19/20 meets 0.95).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from fractions import Fraction

from services.indicators.domain.contributions import Key
from shared.contract import INDICATOR_IDS, IndicatorValue, Target
from shared.plans import Plan, target_for

# indicator → (numerator counter, denominator counter or None for a count)
COUNTERS: dict[str, tuple[str, str | None]] = {
    "female_key_leader_division_share": ("div_female_key", "divisions"),
    "female_key_leader_agency_share": ("agency_female_key", "agencies"),
    "female_share_in_division_planning_pool": ("female_div_pooled", "div_pooled"),
    "female_share_in_planning_pool": ("female_pooled", "pooled"),
    "trained_share_of_planned_women": ("trained_female_div_pooled", "female_div_pooled"),
    "units_with_female_in_planning_share": ("div_pool_female", "divisions"),
    "units_meeting_planning_floor_share": ("div_floor_met", "div_pool_nonempty"),
    "female_leader_share": ("female_leader", "leader"),
    "female_head_share": ("female_head", "head"),
    "ethnic_minority_female_leaders": ("em_female_leader", None),
    "female_staff_share": ("female_staff", "staff"),
    "female_share_of_appointments_ytd": ("female_appointments", "appointments"),
    "units_inspected_share_ytd": ("div_inspected", "divisions"),
    "open_recommendations": ("open_recommendations", None),
    "overdue_recommendations": ("overdue_recommendations", None),
}
assert tuple(COUNTERS) == INDICATOR_IDS, "every indicator of the contract, in its order"


def figures(counters: Counter[Key], unit_id: str) -> dict[str, tuple[int, int | None]]:
    """(numerator, denominator) of every indicator of a unit."""
    result: dict[str, tuple[int, int | None]] = {}
    for indicator, (numerator, denominator) in COUNTERS.items():
        result[indicator] = (
            counters[(unit_id, numerator)],
            None if denominator is None else counters[(unit_id, denominator)],
        )
    return result


def _value(numerator: int, denominator: int | None) -> Fraction | None:
    if denominator is None:
        return Fraction(numerator)
    return Fraction(numerator, denominator) if denominator else None


def indicator_values(
    counters: Counter[Key],
    unit_id: str,
    *,
    chain: Sequence[str],
    plans: Sequence[Plan],
    year: int,
) -> dict[str, IndicatorValue]:
    """Every indicator of the unit whose ancestor chain (itself first) is ``chain``."""
    values: dict[str, IndicatorValue] = {}
    for indicator, (numerator, denominator) in figures(counters, unit_id).items():
        value = _value(numerator, denominator)
        target = target_for(plans, chain, indicator, year)
        values[indicator] = IndicatorValue(
            value=None if value is None else float(value),
            numerator=numerator,
            denominator=denominator,
            target=target,
            meets_target=meets(value, target),
        )
    return values


def meets(value: Fraction | None, target: Target | None) -> bool | None:
    if target is None or value is None:
        return None
    return value >= Fraction(str(target.value))
