"""A unit's indicators from the tally's counters, with their targets (pure).

Each indicator of contract section 5 is (numerator counter, denominator counter); a count
has no denominator. ``value`` is the fraction, or None when the denominator is 0; a target
is met when the value reaches it (compared as exact fractions: 19/20 meets 0.95).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from services.indicators.domain.contributions import Key
from shared.outbound import INDICATOR_IDS, IndicatorValue, Target
from shared.plans import Plan, targets_for


@dataclass(frozen=True)
class Indicator:
    """One indicator of contract section 5: which counters make it, and what it means."""

    id: str
    numerator: str  # counter names (see contributions.py)
    denominator: str | None  # None: a count
    meaning: str  # what counts, in the domain's words, with the Vietnamese term


CATALOGUE: tuple[Indicator, ...] = (
    Indicator(
        "female_key_leader_division_share", "div_female_key", "divisions",
        "divisions (phòng và tương đương) with a woman in a key role (head or deputy: "
        "lãnh đạo chủ chốt) / active divisions",
    ),
    Indicator(
        "female_key_leader_agency_share", "agency_female_key", "agencies",
        "agencies and the province (sở, ban, ngành, UBND) with a woman in a key role / "
        "active agencies and provinces",
    ),
    Indicator(
        "female_share_in_division_planning_pool", "female_div_pooled", "div_pooled",
        "women / people in the planning pools (quy hoạch) of divisions, distinct people",
    ),
    Indicator(
        "female_share_in_planning_pool", "female_pooled", "pooled",
        "women / people in the planning pools of any unit, distinct people",
    ),
    Indicator(
        "trained_share_of_planned_women", "trained_female_div_pooled", "female_div_pooled",
        "women in division pools with a qualifying training (đào tạo, bồi dưỡng) in the "
        "last 5 calendar years / women in division pools",
    ),
    Indicator(
        "units_with_female_in_planning_share", "div_pool_female", "divisions",
        "divisions whose pool includes a woman / active divisions",
    ),
    Indicator(
        "units_meeting_planning_floor_share", "div_floor_met", "div_pool_nonempty",
        "divisions whose non-empty pool is at least 25% women / divisions with a non-empty "
        "pool",
    ),
    Indicator(
        "female_leader_share", "female_leader", "leader",
        "women / people holding any position (lãnh đạo, quản lý), distinct people",
    ),
    Indicator(
        "female_head_share", "female_head", "head",
        "women / people heading a unit (cấp trưởng), distinct people",
    ),
    Indicator(
        "ethnic_minority_female_leaders", "em_female_leader", None,
        "ethnic-minority women (nữ dân tộc thiểu số) holding a position: a count",
    ),
    Indicator(
        "female_staff_share", "female_staff", "staff",
        "women / people homed in the subtree (cán bộ, công chức, viên chức)",
    ),
    Indicator(
        "female_share_of_appointments_ytd", "female_appointments", "appointments",
        "appointments (bổ nhiệm, re-appointments included) this year to open units whose "
        "appointee is a woman / all such appointments",
    ),
    Indicator(
        "units_inspected_share_ytd", "div_inspected", "divisions",
        "divisions covered by a non-cancelled inspection (thanh tra, kiểm tra, giám sát) "
        "planned to start this year / active divisions",
    ),
    Indicator(
        "open_recommendations", "open_recommendations", None,
        "unresolved inspection recommendations (kiến nghị) to open units: a count",
    ),
    Indicator(
        "overdue_recommendations", "overdue_recommendations", None,
        "unresolved recommendations past their due date: a count",
    ),
)  # fmt: skip
COUNTERS: dict[str, tuple[str, str | None]] = {
    i.id: (i.numerator, i.denominator) for i in CATALOGUE
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
    counted = figures(counters, unit_id)
    targets = targets_for(plans, chain, counted, year)
    for indicator, (numerator, denominator) in counted.items():
        value = _value(numerator, denominator)
        target = targets[indicator]
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
