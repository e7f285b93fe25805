"""The notifications service's own metrics, on the service's registry (see shared.metrics)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class NotificationMetrics:
    raised: Counter
    suppressed: Counter
    deliveries: Counter
    outbox_depth: Gauge
    delivery_latency: Histogram
    unattributed_anomalies: Counter


def make_notification_metrics(registry: CollectorRegistry) -> NotificationMetrics:
    prefix = "parity_notifications"
    return NotificationMetrics(
        raised=Counter(
            f"{prefix}_raised", "Notifications raised, by rule", ["rule"], registry=registry
        ),
        suppressed=Counter(
            f"{prefix}_suppressed",
            "Notifications not raised inside the quiet period of an earlier one, by rule",
            ["rule"],
            registry=registry,
        ),
        deliveries=Counter(
            f"{prefix}_deliveries",
            "Delivery attempts by channel and outcome (delivered, retry, failed)",
            ["channel", "outcome"],
            registry=registry,
        ),
        outbox_depth=Gauge(
            f"{prefix}_outbox_depth", "Deliveries not yet delivered or failed", registry=registry
        ),
        delivery_latency=Histogram(
            f"{prefix}_delivery_latency_seconds",
            "From a notification written to the outbox to its delivery, by channel",
            ["channel"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600),
            registry=registry,
        ),
        unattributed_anomalies=Counter(
            f"{prefix}_unattributed_anomalies",
            "Data-quality anomalies of a person with no unit to attribute them to",
            registry=registry,
        ),
    )
