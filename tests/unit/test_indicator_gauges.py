"""The plan gauges of the indicator service (services/indicators/metrics.py) follow the last
published figures: a figure that has no value or no target any more drops its series, so
that the below-target alert does not go on firing on an old gap."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.indicators.metrics import make_indicator_metrics, observe_targets
from shared.plans import Plan

INDICATOR = "female_key_leader_division_share"
PLAN = Plan(
    id="p",
    title="Kế hoạch",
    issued_by="UBND tỉnh",
    issued_on=dt.date(2022, 1, 1),
    scope_unit_id="U-1",
    targets={INDICATOR: {2030: 0.95}},
)
LABELS = {"plan": "p", "indicator": INDICATOR, "scope_unit": "U-1"}


def content(value: float | None, target: dict[str, Any] | None) -> dict[str, Any]:
    return {"indicators": {INDICATOR: {"value": value, "target": target}}}


def test_a_gap_goes_when_the_value_or_the_target_does() -> None:
    metrics = make_indicator_metrics()
    registry = metrics.service.registry

    def gap() -> float | None:
        return registry.get_sample_value("parity_indicator_target_gap", LABELS)

    target = {"plan": "p", "year": 2030, "value": 0.95}
    observe_targets(metrics, [PLAN], [], {"U-1": content(0.5, target)})
    assert gap() == 0.95 - 0.5
    observe_targets(metrics, [PLAN], [], {"U-1": content(None, target)})  # denominator 0
    assert gap() is None
    assert registry.get_sample_value("parity_indicator_value", LABELS) is None
    observe_targets(metrics, [PLAN], [], {"U-1": content(0.5, target)})
    observe_targets(metrics, [PLAN], [], {"U-1": content(0.5, None)})  # the last milestone passed
    assert gap() is None
    assert registry.get_sample_value("parity_indicator_value", LABELS) == 0.5
