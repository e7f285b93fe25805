"""The inspections service's metrics: the shared ones, plus gauges of inspections by state
and of open and overdue recommendations (labels bounded: the five states only)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Gauge

from services.inspections.domain.inspection import STATUSES
from services.inspections.store import InspectionsStore
from shared.metrics import ServiceMetrics, make_metrics


@dataclass(frozen=True)
class InspectionMetrics:
    service: ServiceMetrics
    inspections: Gauge  # label: state
    open_recommendations: Gauge
    overdue_recommendations: Gauge

    async def observe(self, store: InspectionsStore) -> None:
        """Read the gauges' values from the store (every consumer-lag interval)."""
        for state, count in (await store.count_by("inspections", "status", STATUSES)).items():
            self.inspections.labels(state=state).set(count)
        recommendations = await store.count_by("recommendations", "status", ("open", "overdue"))
        self.open_recommendations.set(recommendations["open"] + recommendations["overdue"])
        self.overdue_recommendations.set(recommendations["overdue"])
        self.service.waiting_future_events.set(await store.count_waiting())


def make_inspection_metrics(service: ServiceMetrics | None = None) -> InspectionMetrics:
    service = service or make_metrics("inspections")
    registry = service.registry
    return InspectionMetrics(
        service=service,
        inspections=Gauge(
            "parity_inspections_inspections",
            "Inspections by state (pending: events arrived but no plan yet)",
            ["state"],
            registry=registry,
        ),
        open_recommendations=Gauge(
            "parity_inspections_open_recommendations",
            "Unresolved recommendations of inspections not cancelled, overdue ones included",
            registry=registry,
        ),
        overdue_recommendations=Gauge(
            "parity_inspections_overdue_recommendations",
            "Unresolved recommendations whose due date has passed",
            registry=registry,
        ),
    )
