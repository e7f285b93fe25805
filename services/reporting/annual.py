"""The annual report of a plan as of a date (báo cáo kết quả thực hiện hằng năm), as tables.

Pure: history records and a plan in, an :class:`AnnualReport` out. Its parts:

- the plan's targeted indicators at its scope unit against every milestone (met, gap);
- the trend: each indicator's value at the end of every year of the history (the last
  point is the as-of date itself);
- the units furthest from the milestone in force, and every unit benchmarked against its
  siblings (same parent, same level) and the scope;
- ethnic-minority women leaders, inspections and recommendations.

A plan without a scope unit (national) covers every root unit of the history.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from services.reporting.history import Figure, Tree, UnitStatus, end_of_day, snapshots
from services.reporting.source import Recommendation
from shared.clock import VIETNAM
from shared.outbound import INDICATOR_IDS
from shared.plans import Plan

SHORTFALL_ROWS = 10
BENCHMARKED_LEVELS = frozenset({"agency", "public_service_unit", "division"})


@dataclass(frozen=True)
class MilestoneCheck:
    year: int
    target: float
    met: bool | None  # None: no value (an empty denominator)
    gap: float | None  # how far below the target (0 when met)
    past: bool  # the milestone year ended before the as-of date's year


@dataclass(frozen=True)
class TargetRow:
    scope_id: str
    indicator: str
    figure: Figure | None
    milestones: tuple[MilestoneCheck, ...]


@dataclass(frozen=True)
class Shortfall:
    unit_id: str
    indicator: str
    figure: Figure
    target_year: int
    target: float
    gap: float


@dataclass(frozen=True)
class Benchmark:
    unit_id: str
    indicator: str
    value: float | None
    siblings_median: float | None  # of the siblings with a value
    rank: int | None  # 1 = highest among the unit and its siblings with a value
    peers: int  # the unit and its siblings with a value
    scope_value: float | None


@dataclass(frozen=True)
class RecommendationTally:
    """Recommendations to a unit's subtree issued by the as-of date, as they stood then."""

    issued: int = 0
    resolved: int = 0
    open: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class AnnualReport:
    plan: Plan
    as_of: date
    scope_ids: tuple[str, ...]
    tree: Tree  # the active units as of the date
    units: tuple[str, ...]  # the scopes' subtrees, depth first
    indicators: tuple[str, ...]  # the plan's indicators (targeted, then tracked)
    targets: tuple[TargetRow, ...]
    years: tuple[int, ...]
    trends: dict[tuple[str, str], list[float | None]]  # (scope, indicator) → value per year
    shortfalls: dict[str, list[Shortfall]]  # indicator → furthest units first
    benchmarks: dict[tuple[str, str], Benchmark]  # (unit, indicator)
    recommendations: dict[str, RecommendationTally] | None  # unit → its subtree's tally

    def figure(self, unit_id: str, indicator: str) -> Figure | None:
        status = self.tree.units.get(unit_id)
        return None if status is None else status.indicators.get(indicator)

    def status(self, unit_id: str) -> UnitStatus:
        return self.tree.units[unit_id]

    def top_units(self, scope_id: str) -> list[str]:
        """The units right under a scope (its agencies)."""
        return list(self.tree.children.get(scope_id, []))


def plan_indicators(plan: Plan) -> tuple[str, ...]:
    return tuple(i for i in INDICATOR_IDS if i in plan.targets) + tuple(
        i for i in INDICATOR_IDS if i in plan.tracked and i not in plan.targets
    )


def milestone_checks(
    milestones: dict[int, float], value: float | None, year: int
) -> tuple[MilestoneCheck, ...]:
    checks = []
    for milestone_year in sorted(milestones):
        target = milestones[milestone_year]
        met = None if value is None else value >= target
        gap = None if value is None else max(0.0, target - value)
        checks.append(MilestoneCheck(milestone_year, target, met, gap, milestone_year < year))
    return tuple(checks)


def milestone_in_force(milestones: dict[int, float], year: int) -> tuple[int, float]:
    """The nearest milestone not yet past, else the last one."""
    upcoming = [y for y in sorted(milestones) if y >= year] or [max(milestones)]
    return upcoming[0], milestones[upcoming[0]]


def report_years(records: Sequence[UnitStatus], as_of: date) -> tuple[int, ...]:
    if not records:
        return (as_of.year,)
    first = min(r.instant.astimezone(VIETNAM).year for r in records)
    return tuple(range(min(first, as_of.year), as_of.year + 1))


def shortfalls(
    tree: Tree, units: Iterable[str], indicator: str, milestones: dict[int, float], year: int
) -> list[Shortfall]:
    target_year, target = milestone_in_force(milestones, year)
    found = []
    for unit_id in units:
        status = tree.units[unit_id]
        figure = status.indicators.get(indicator)
        if status.level not in BENCHMARKED_LEVELS or figure is None or figure.value is None:
            continue
        if figure.value < target:
            found.append(
                Shortfall(unit_id, indicator, figure, target_year, target, target - figure.value)
            )
    found.sort(key=lambda s: (-s.gap, -(s.figure.denominator or 0), tree.units[s.unit_id].name))
    return found[:SHORTFALL_ROWS]


def benchmark(tree: Tree, unit_id: str, indicator: str, scope_value: float | None) -> Benchmark:
    def value_of(other: str) -> float | None:
        figure = tree.units[other].indicators.get(indicator)
        return None if figure is None else figure.value

    own = value_of(unit_id)
    sibling_values = [v for v in (value_of(s) for s in tree.siblings(unit_id)) if v is not None]
    median = statistics.median(sibling_values) if sibling_values else None
    rank = None if own is None else 1 + sum(1 for v in sibling_values if v > own)
    peers = len(sibling_values) + (own is not None)
    return Benchmark(unit_id, indicator, own, median, rank, peers, scope_value)


def tally_recommendations(
    tree: Tree, units: Sequence[str], recommendations: Iterable[Recommendation], as_of: date
) -> dict[str, RecommendationTally]:
    """Each unit's subtree tally: resolved by the end of the as-of date, else open; open and
    due before the as-of date is overdue."""
    cutoff = end_of_day(as_of)
    own: dict[str, list[int]] = {u: [0, 0, 0, 0] for u in units}
    for item in recommendations:
        counts = own.get(item.unit_id)
        if counts is None:
            continue
        resolved = item.resolved_at is not None and item.resolved_at < cutoff
        counts[0] += 1
        counts[1] += resolved
        counts[2] += not resolved
        counts[3] += (not resolved) and item.due < as_of
    tallies = {}
    for unit_id in units:
        totals = [0, 0, 0, 0]
        for member in tree.subtree(unit_id):
            for i, n in enumerate(own.get(member, (0, 0, 0, 0))):
                totals[i] += n
        tallies[unit_id] = RecommendationTally(*totals)
    return tallies


def build_report(
    plan: Plan,
    as_of: date,
    records: Sequence[UnitStatus],
    *,
    recommendations: Iterable[Recommendation] | None = None,
) -> AnnualReport:
    """The report from every history record before the end of ``as_of`` (later ones are
    ignored, so the caller may pass more)."""
    years = report_years([r for r in records if r.instant < end_of_day(as_of)], as_of)
    cutoffs = [end_of_day(date(y, 12, 31)) for y in years[:-1]] + [end_of_day(as_of)]
    by_year = [Tree.of(s) for s in snapshots(records, cutoffs)]
    tree = by_year[-1]
    scope_ids = (plan.scope_unit_id,) if plan.scope_unit_id is not None else tuple(tree.roots())
    units = tuple(u for scope in scope_ids for u in tree.subtree(scope))
    indicators = plan_indicators(plan)

    def value(t: Tree, unit_id: str, indicator: str) -> float | None:
        status = t.units.get(unit_id)
        figure = None if status is None else status.indicators.get(indicator)
        return None if figure is None else figure.value

    targets = tuple(
        TargetRow(
            scope,
            indicator,
            tree.units[scope].indicators.get(indicator) if scope in tree.units else None,
            milestone_checks(plan.targets[indicator], value(tree, scope, indicator), as_of.year),
        )
        for scope in scope_ids
        for indicator in indicators
        if indicator in plan.targets
    )
    trends = {
        (scope, indicator): [value(t, scope, indicator) for t in by_year]
        for scope in scope_ids
        for indicator in INDICATOR_IDS
    }
    below = [u for u in units if u not in scope_ids]
    scope_of = {u: scope for scope in scope_ids for u in tree.subtree(scope)}
    return AnnualReport(
        plan=plan,
        as_of=as_of,
        scope_ids=scope_ids,
        tree=tree,
        units=units,
        indicators=indicators,
        targets=targets,
        years=years,
        trends=trends,
        shortfalls={
            i: shortfalls(tree, below, i, plan.targets[i], as_of.year) for i in plan.targets
        },
        benchmarks={
            (u, i): benchmark(tree, u, i, value(tree, scope_of[u], i))
            for u in below
            for i in indicators
        },
        recommendations=None
        if recommendations is None
        else tally_recommendations(tree, units, recommendations, as_of),
    )
