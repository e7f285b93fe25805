"""Plans (kế hoạch): targets per indicator and milestone year, and reporting deadlines.

One YAML file per plan, shipped under ``deploy/plans/``. A plan applies to the subtree of its
``scope_unit_id``; a plan without one is national and applies everywhere, behind any plan
with a scope. For a unit and an indicator, the target comes from the plan scoped at the
nearest ancestor-or-self of the unit that sets one for that indicator (at equal scope the
plan issued last wins), at the nearest milestone year not yet past.

:func:`load_plans` checks every file and reports each problem with its file and line.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.outbound import INDICATOR_IDS, Target

PlanId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Share = Annotated[float, Field(ge=0, le=1)]


class Deadline(BaseModel):
    """A reporting deadline: every year on ``month``/``day``, or once on ``date``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: PlanId
    title: str  # Vietnamese, as the plan words it
    month: int | None = Field(default=None, ge=1, le=12)
    day: int | None = Field(default=None, ge=1, le=31)
    date: dt.date | None = None  # (not `on`: YAML 1.1 reads that key as true)

    def model_post_init(self, context: Any) -> None:
        yearly = self.month is not None and self.day is not None
        if yearly == (self.date is not None) or (self.month is None) != (self.day is None):
            raise ValueError("a deadline has either month and day (every year) or date (once)")
        if yearly:
            dt.date(2024, self.month or 1, self.day or 1)  # a real day of a leap year

    def occurrences(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Its dates in [start, end]."""
        if self.date is not None:
            return [self.date] if start <= self.date <= end else []
        dates = []
        for year in range(start.year, end.year + 1):
            leap = calendar.isleap(year)
            day = 28 if (self.month, self.day) == (2, 29) and not leap else self.day
            when = dt.date(year, self.month or 1, day or 1)  # 29 February: the 28th if none
            if start <= when <= end:
                dates.append(when)
        return dates


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: PlanId
    title: str
    issued_by: str
    issued_on: dt.date
    scope_unit_id: str | None = None  # None: national, applies everywhere
    targets: dict[str, dict[int, Share]] = Field(default_factory=dict)  # indicator → year → value
    tracked: list[str] = Field(default_factory=list)  # indicators followed without a number
    deadlines: list[Deadline] = Field(default_factory=list)

    @field_validator("targets", "tracked")
    @classmethod
    def _known_indicators(cls, value: Any) -> Any:
        unknown = sorted(set(value) - set(INDICATOR_IDS))
        if unknown:
            raise ValueError(f"unknown indicator(s): {', '.join(unknown)}")
        return value

    def indicators(self) -> set[str]:
        return set(self.targets) | set(self.tracked)


class PlanError(ValueError):
    """A plan file that cannot be used; the message names the file and line."""


def _line_of(node: yaml.Node, location: Sequence[int | str]) -> int:
    """The 1-based line of the YAML node at a pydantic error location (best effort)."""
    for step in location:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if str(k.value) == str(step)]
            if not match:
                break
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                break
            node = node.value[step]
        else:
            break
    return node.start_mark.line + 1


def parse_plan(text: str, name: str) -> Plan:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise PlanError(f"{name}:{line}: not valid YAML: {error}") from None
    if node is None or not isinstance(raw, dict):
        raise PlanError(f"{name}:1: a plan is a YAML mapping")
    try:
        return Plan.model_validate(raw)
    except ValidationError as error:
        problems = [
            f"{name}:{_line_of(node, item['loc'])}: "
            f"{'.'.join(str(p) for p in item['loc']) or 'plan'}: {item['msg']}"
            for item in error.errors()
        ]
        raise PlanError("\n".join(problems)) from None


def load_plans(directory: Path) -> list[Plan]:
    """Every ``*.yaml`` plan in ``directory``; all problems of all files in one error."""
    plans, problems = [], []
    for path in sorted(directory.glob("*.yaml")):
        try:
            plans.append(parse_plan(path.read_text(encoding="utf-8"), str(path)))
        except PlanError as error:
            problems.append(str(error))
    ids = [p.id for p in plans]
    problems += [f"{directory}: plan id {i!r} is used twice" for i in set(ids) if ids.count(i) > 1]
    if problems:
        raise PlanError("\n".join(problems))
    return plans


def _nearest_milestone(milestones: dict[int, float], year: int) -> tuple[int, float] | None:
    upcoming = sorted(y for y in milestones if y >= year)
    return (upcoming[0], milestones[upcoming[0]]) if upcoming else None


def plans_in_force(plans: Iterable[Plan], chain: Sequence[str]) -> list[Plan]:
    """The plans covering a unit, nearest scope first: ``chain`` is the unit and its
    ancestors, nearest first; national plans come last; at equal scope, latest issued first."""
    by_scope = sorted(plans, key=lambda p: p.issued_on, reverse=True)
    ordered = [p for unit_id in chain for p in by_scope if p.scope_unit_id == unit_id]
    return ordered + [p for p in by_scope if p.scope_unit_id is None]


def target_for(
    plans: Iterable[Plan], chain: Sequence[str], indicator: str, year: int
) -> Target | None:
    """The target of ``indicator`` for the unit whose ancestor chain is ``chain``."""
    return targets_for(plans, chain, (indicator,), year)[indicator]


def targets_for(
    plans: Iterable[Plan], chain: Sequence[str], indicators: Iterable[str], year: int
) -> dict[str, Target | None]:
    """:func:`target_for` of each of ``indicators``, the plans in force found once."""
    in_force = plans_in_force(plans, chain)
    return {indicator: _target_in(in_force, indicator, year) for indicator in indicators}


def _target_in(in_force: Sequence[Plan], indicator: str, year: int) -> Target | None:
    for plan in in_force:
        if indicator in plan.targets:
            milestone = _nearest_milestone(plan.targets[indicator], year)
            return (
                Target(plan=plan.id, year=milestone[0], value=milestone[1]) if milestone else None
            )
    return None
