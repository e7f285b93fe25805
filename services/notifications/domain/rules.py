"""Notification rules over a unit's previous and new status.

Each rule looks at a transition (previous → new) and returns the notifications it raises as
:class:`Candidate` values. A candidate's ``notification_id`` is derived from the condition
behind it (rule, unit, and what identifies the occurrence: the indicator and the status
version where it happened, a recommendation, a deadline date and lead time, a day), so the
same condition evaluated twice gives the same id, and the log keeps it once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.internal import UnitInspectionStatus
from shared.outbound import IndicatorValue, UnitIndicators

Severity = Literal["info", "warning", "critical"]
SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}

TARGET_BREACHED = "target_breached"
TARGET_RECOVERED = "target_recovered"
LAST_FEMALE_KEY_LEADER_LEFT = "last_female_key_leader_left"
PLANNING_FLOOR_BREACHED = "planning_floor_breached"
RECOMMENDATION_OVERDUE = "recommendation_overdue"
DEADLINE_APPROACHING = "deadline_approaching"
DATA_QUALITY = "data_quality"
RULES = (
    TARGET_BREACHED,
    TARGET_RECOVERED,
    LAST_FEMALE_KEY_LEADER_LEFT,
    PLANNING_FLOOR_BREACHED,
    RECOMMENDATION_OVERDUE,
    DEADLINE_APPROACHING,
    DATA_QUALITY,
)
# Rules driven by an indicator that may go back and forth: a quiet period applies to them.
FLAPPING_RULES = frozenset(
    {TARGET_BREACHED, TARGET_RECOVERED, LAST_FEMALE_KEY_LEADER_LEFT, PLANNING_FLOOR_BREACHED}
)
# Rules that report an indicator's state (below or meeting its target): what the quiet period
# holds back of them comes out when it ends if the indicator is still in that state.
STATE_RULES = frozenset({TARGET_BREACHED, TARGET_RECOVERED})

KEY_LEADER_INDICATOR = "female_key_leader_division_share"
PLANNING_FLOOR_INDICATOR = "units_meeting_planning_floor_share"
DIVISION_POOL_INDICATOR = "female_share_in_division_planning_pool"


@dataclass(frozen=True)
class Candidate:
    """A notification a rule raises, before the log, the quiet period and delivery."""

    rule: str
    unit_id: str
    severity: Severity
    condition: tuple[str, ...]  # what identifies this occurrence of the condition
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def notification_id(self) -> str:
        return notification_id(self.rule, self.unit_id, *self.condition)

    @property
    def quiet_key(self) -> str | None:
        """The (unit, rule, indicator) whose quiet period this candidate respects, if any."""
        if self.rule not in FLAPPING_RULES:
            return None
        return "\x1f".join((self.unit_id, self.rule, str(self.details.get("indicator", ""))))

    @property
    def state_key(self) -> str | None:
        """The (unit, indicator) whose state this candidate reports, if it reports one."""
        if self.rule not in STATE_RULES:
            return None
        return "\x1f".join((self.unit_id, str(self.details.get("indicator", ""))))


def notification_id(rule: str, unit_id: str, *condition: str) -> str:
    """Stable, at most 128 printable ASCII characters (it is also the CloudEvent id)."""
    digest = hashlib.sha256("\x1f".join((rule, unit_id, *condition)).encode()).hexdigest()
    return f"{rule}-{digest[:40]}"


def _figures(value: IndicatorValue | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"value": value.value, "numerator": value.numerator, "denominator": value.denominator}


def _indicator_details(
    new: UnitIndicators, indicator: str, previous: IndicatorValue | None
) -> dict[str, Any]:
    current = new.indicators[indicator]
    return {
        "unit_name": new.name,
        "unit_level": new.level.value,
        "version": new.version,
        "as_of": new.as_of,
        "indicator": indicator,
        **(_figures(current) or {}),
        "target": current.target.model_dump() if current.target else None,
        "previous": _figures(previous),
    }


def _candidate(
    rule: str,
    severity: Severity,
    new: UnitIndicators,
    indicator: str,
    previous: UnitIndicators | None,
) -> Candidate:
    before = previous.indicators.get(indicator) if previous else None
    return Candidate(
        rule=rule,
        unit_id=new.unit_id,
        severity=severity,
        condition=(indicator, str(new.version)),
        details=_indicator_details(new, indicator, before),
    )


def indicator_rules(previous: UnitIndicators | None, new: UnitIndicators) -> list[Candidate]:
    """target_breached, target_recovered, last_female_key_leader_left, planning_floor_breached.

    A breach is the step into "below target" (``meets_target`` becomes false after being true,
    unknown, or the unit being seen for the first time); staying below raises nothing. A
    closed unit raises nothing.
    """
    if not new.active:
        return []
    found: list[Candidate] = []
    for indicator, value in sorted(new.indicators.items()):
        before = previous.indicators.get(indicator) if previous else None
        was = before.meets_target if before else None
        if value.target is not None and value.meets_target is False and was is not False:
            found.append(_candidate(TARGET_BREACHED, "warning", new, indicator, previous))
        if value.target is not None and value.meets_target is True and was is False:
            found.append(_candidate(TARGET_RECOVERED, "info", new, indicator, previous))
    if previous is None or new.level != "division":
        return found
    if _went(previous, new, KEY_LEADER_INDICATOR, (1, 1), (0, 1)):
        found.append(
            _candidate(LAST_FEMALE_KEY_LEADER_LEFT, "critical", new, KEY_LEADER_INDICATOR, previous)
        )
    if _went(previous, new, PLANNING_FLOOR_INDICATOR, (1, 1), (0, 1)):
        floor = _candidate(
            PLANNING_FLOOR_BREACHED, "warning", new, PLANNING_FLOOR_INDICATOR, previous
        )
        pool = new.indicators.get(DIVISION_POOL_INDICATOR)
        found.append(
            Candidate(
                rule=floor.rule,
                unit_id=floor.unit_id,
                severity=floor.severity,
                condition=floor.condition,
                details={**floor.details, "pool_share": _figures(pool)},
            )
        )
    return found


def still_holds(candidate: Candidate, current: UnitIndicators | None) -> bool:
    """The state a target_breached (below) or target_recovered (meeting) candidate reports is
    the indicator's state in the unit's current status."""
    if current is None or not current.active:
        return False
    value = current.indicators.get(str(candidate.details.get("indicator", "")))
    if value is None or value.target is None:
        return False
    if candidate.rule == TARGET_BREACHED:
        return value.meets_target is False
    return candidate.rule == TARGET_RECOVERED and value.meets_target is True


def _went(
    previous: UnitIndicators,
    new: UnitIndicators,
    indicator: str,
    before: tuple[int, int],
    after: tuple[int, int],
) -> bool:
    """The indicator's (numerator, denominator) went from ``before`` to ``after``."""
    old, now = previous.indicators.get(indicator), new.indicators.get(indicator)
    if old is None or now is None:
        return False
    return (old.numerator, old.denominator) == before and (now.numerator, now.denominator) == after


def overdue_recommendation_rules(
    previous: UnitInspectionStatus | None, new: UnitInspectionStatus, *, unit_name: str
) -> list[Candidate]:
    """recommendation_overdue: a recommendation shows up overdue (once per recommendation)."""
    overdue_before = {
        r.recommendation_id
        for r in (previous.open_recommendations if previous else ())
        if r.overdue
    }
    return [
        Candidate(
            rule=RECOMMENDATION_OVERDUE,
            unit_id=new.unit_id,
            severity="warning",
            condition=(recommendation.recommendation_id,),
            details={
                "unit_name": unit_name,
                "recommendation_id": recommendation.recommendation_id,
                "inspection_id": recommendation.inspection_id,
                "due": recommendation.due,
                "revision": new.revision,
            },
        )
        for recommendation in new.open_recommendations
        if recommendation.overdue and recommendation.recommendation_id not in overdue_before
    ]
