"""The public contract's outbound side (../shared/CONTRACT.md sections 4 and 5): the
indicator feed's and the notification topic's event types and payloads, and the indicators
in the contract's order. What Parity publishes; shared/contract.py holds what it consumes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contract import Identifier, UnitLevel

INDICATORS_EVENT_TYPE = "parity.unit.indicators"
NOTIFICATION_EVENT_TYPE = "parity.notification"

# Contract section 5, in its order. Shares have a denominator; counts do not.
INDICATOR_IDS = (
    "female_key_leader_division_share",
    "female_key_leader_agency_share",
    "female_share_in_division_planning_pool",
    "female_share_in_planning_pool",
    "trained_share_of_planned_women",
    "units_with_female_in_planning_share",
    "units_meeting_planning_floor_share",
    "female_leader_share",
    "female_head_share",
    "ethnic_minority_female_leaders",
    "female_staff_share",
    "female_share_of_appointments_ytd",
    "units_inspected_share_ytd",
    "open_recommendations",
    "overdue_recommendations",
)
COUNT_INDICATORS = frozenset(
    {"ethnic_minority_female_leaders", "open_recommendations", "overdue_recommendations"}
)


class Target(BaseModel):
    model_config = ConfigDict(frozen=True)

    plan: str
    year: int
    value: float


class IndicatorValue(BaseModel):
    value: float | None
    numerator: int
    denominator: int | None
    target: Target | None = None
    meets_target: bool | None = None


class UnitIndicators(BaseModel):
    """`data` of a `parity.unit.indicators` event: a unit's whole current status."""

    unit_id: Identifier
    name: str
    level: UnitLevel
    parent_id: Identifier | None
    active: bool
    as_of: str
    version: int = Field(ge=1)
    indicators: dict[str, IndicatorValue]


class Notification(BaseModel):
    """`data` of a `parity.notification` event. Names units, roles and figures, never a person."""

    notification_id: str
    rule: str
    unit_id: Identifier
    severity: Literal["info", "warning", "critical"]
    title: str
    body: str
    raised_at: str
    details: dict[str, Any]
