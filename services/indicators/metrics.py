"""The indicator service's own metrics, beside the shared ones.

Per plan and targeted indicator, at the plan's scope unit (each root for a national plan):
the current value, the target and the gap (target minus value: above 0 is below target).
Labels are bounded by the plans shipped, never a person.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from prometheus_client import Counter, Gauge

from shared.metrics import ServiceMetrics, make_metrics
from shared.plans import Plan
from shared.store import Document

LABELS = ["plan", "indicator", "scope_unit"]


@dataclass(frozen=True)
class IndicatorMetrics:
    service: ServiceMetrics
    records_published: Counter
    rebuilds: Counter
    value: Gauge
    target: Gauge
    target_gap: Gauge


def make_indicator_metrics() -> IndicatorMetrics:
    service = make_metrics("indicators")
    registry = service.registry
    return IndicatorMetrics(
        service=service,
        records_published=Counter(
            "parity_indicators_records_published",
            "Unit status records published",
            registry=registry,
        ),
        rebuilds=Counter(
            "parity_indicators_rebuilds",
            "Full re-derivations of the counters",
            ["reason"],
            registry=registry,
        ),
        value=Gauge(
            "parity_indicator_value",
            "Indicator value at a plan's scope unit",
            LABELS,
            registry=registry,
        ),
        target=Gauge(
            "parity_indicator_target", "The plan's current milestone", LABELS, registry=registry
        ),
        target_gap=Gauge(
            "parity_indicator_target_gap",
            "Target minus value (> 0: below target)",
            LABELS,
            registry=registry,
        ),
    )


def scope_units(plan: Plan, roots: Iterable[str]) -> list[str]:
    return [plan.scope_unit_id] if plan.scope_unit_id else sorted(roots)


def gauged_units(plans: Iterable[Plan], roots: Iterable[str]) -> set[str]:
    """The units whose records set the plan gauges: the plans' scope units."""
    roots = list(roots)
    return {unit_id for plan in plans for unit_id in scope_units(plan, roots)}


def observe_targets(
    metrics: IndicatorMetrics,
    plans: Iterable[Plan],
    roots: Iterable[str],
    content_of: Mapping[str, Document],
) -> None:
    """Set the plan gauges from the last published content of the plans' scope units."""
    roots = list(roots)
    for plan in plans:
        for unit_id in scope_units(plan, roots):
            content = content_of.get(unit_id)
            if content is None:
                continue
            for indicator in plan.targets:
                figure = content["indicators"][indicator]
                labels = (plan.id, indicator, unit_id)
                target, value = figure.get("target"), figure["value"]
                if target is not None and target["plan"] != plan.id:
                    target = None  # another plan's
                # a figure that has none now drops its series: an old gap would keep the
                # below-target alert firing
                _set_or_drop(metrics.value, labels, value)
                _set_or_drop(metrics.target, labels, target and target["value"])
                gap = None if target is None or value is None else target["value"] - value
                _set_or_drop(metrics.target_gap, labels, gap)


def _set_or_drop(gauge: Gauge, labels: tuple[str, ...], value: float | None) -> None:
    if value is not None:
        gauge.labels(*labels).set(value)
    else:
        with contextlib.suppress(KeyError):  # no such series yet
            gauge.remove(*labels)
