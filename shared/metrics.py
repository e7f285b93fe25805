"""Prometheus metrics every service exposes, on one registry per service (no globals).

FastStream's Kafka middleware adds per-message metrics on the same registry
(``faststream_*``); these are the project's own. Labels are bounded: topic, event type,
poison kind, anomaly kind — never a person or a unit id.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class ServiceMetrics:
    registry: CollectorRegistry
    events_applied: Counter
    events_duplicate: Counter
    dead_letters: Counter
    anomalies: Counter
    pending_references: Gauge
    waiting_future_events: Gauge
    processing_latency: Histogram


def make_metrics(service: str) -> ServiceMetrics:
    registry = CollectorRegistry()
    prefix = f"parity_{service}"
    return ServiceMetrics(
        registry=registry,
        events_applied=Counter(
            f"{prefix}_events_applied",
            "Inbound events applied, by type",
            ["type"],
            registry=registry,
        ),
        events_duplicate=Counter(
            f"{prefix}_events_duplicate",
            "Redelivered events recognised and skipped",
            ["type"],
            registry=registry,
        ),
        dead_letters=Counter(
            f"{prefix}_dead_letters",
            "Records sent to a dead-letter topic",
            ["topic", "kind"],
            registry=registry,
        ),
        anomalies=Counter(
            f"{prefix}_anomalies",
            "Data-quality anomalies recorded",
            ["kind"],
            registry=registry,
        ),
        pending_references=Gauge(
            f"{prefix}_pending_references",
            "Subjects waiting for a unit that has not arrived yet",
            registry=registry,
        ),
        waiting_future_events=Gauge(
            f"{prefix}_waiting_future_events",
            "Subjects with an event whose effective time has not come yet",
            registry=registry,
        ),
        processing_latency=Histogram(
            f"{prefix}_processing_latency_seconds",
            "From a record's arrival (broker timestamp) to its projection written",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        ),
    )
