"""A batch that fails again and again, on the real Kafka and FerretDB: the personnel service
pauses longer before each retry, counts the failures, reports itself unhealthy on /health
while they last, and publishes the change once the batch succeeds; a sweep that fails again
and again is counted and reported likewise (shared/failing.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, MutableMapping
from datetime import timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from faststream.asgi import AsgiFastStream
from prometheus_client.parser import text_string_to_metric_families

from services.personnel.changes import Change
from shared.contract import PERSONNEL_TOPIC
from shared.failing import pause_after
from tests import events as ev
from tests.integration.conftest import Personnel
from tests.integration.kafka_tools import eventually, produce
from tests.integration.test_personnel import positions, seed_tree

FAILURES = 4
TREE = ("P", "A", "D1", "D2")  # what seed_tree registers


class FailsAtFirst:
    """A change sink whose first ``FAILURES`` publications of R1 fail (Kafka refusing them,
    say), and every publication of a change that ``refuses`` names; it records when each of
    R1's was tried and what it published."""

    def __init__(self) -> None:
        self.tried_at: list[float] = []
        self.published: list[Change] = []
        self.refuses: Callable[[Change], bool] = lambda change: False

    async def publish(self, changes: list[Change]) -> None:
        if any(self.refuses(c) for c in changes):
            raise ConnectionError("the change topic refuses the write")
        if any(c.subject == "R1" for c in changes):
            self.tried_at.append(time.monotonic())
            if len(self.tried_at) <= FAILURES:
                raise ConnectionError("the change topic refuses the write")
        self.published.extend(changes)


@pytest.fixture
def change_sink() -> FailsAtFirst:
    """The personnel fixture publishes its changes through this sink."""
    return FailsAtFirst()


@pytest.fixture
def personnel_overrides() -> dict[str, Any]:
    return {"unhealthy_after_failing_seconds": 0.5}


async def get(app: AsgiFastStream, path: str) -> tuple[int, bytes]:
    """GET ``path`` through the app's ASGI interface: the status and the body."""
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"",
             "headers": [], "root_path": ""}  # fmt: skip
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


async def health(app: AsgiFastStream) -> tuple[int, dict[str, bool]]:
    """/health: the status and the checks."""
    status, body = await get(app, "/health")
    return status, json.loads(body)


async def failures_counted(
    app: AsgiFastStream, subscriber: str, metric: str = "parity_batch_failures_total"
) -> float | None:
    """``metric`` of ``subscriber`` (or of a sweep) as /metrics states it."""
    label = "subscriber" if metric == "parity_batch_failures_total" else "sweep"
    _, body = await get(app, "/metrics")
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if (sample.name, sample.labels) == (metric, {label: subscriber}):
                return float(sample.value)
    return None


async def test_a_failing_batch_is_retried_after_growing_pauses_and_makes_the_service_unhealthy(
    personnel: Personnel, change_sink: FailsAtFirst, producer: AIOKafkaProducer
) -> None:
    app, sink = personnel.app, change_sink
    await seed_tree(producer)
    # the tree applied and published first, so that only the person's own batch folds R1
    # (a unit event would fold her again, through the other subscriber or the sweep)
    await eventually(lambda: _published(sink, *TREE), lambda c: len(c) == len(TREE))
    unpublished = personnel.db["unpublished"]
    await eventually(lambda: unpublished.count_documents({}), lambda n: n == 0)
    assert await health(app) == (
        200,
        {"kafka": True, "store": True, "consumers": True, "sweeps": True},
    )
    assert await failures_counted(app, PERSONNEL_TOPIC) is None
    await produce(producer, PERSONNEL_TOPIC, [ev.person_registered("R1", "D1")])

    # the four failures take 0.1 + 0.2 + 0.4 s of pauses at least, and the fifth attempt
    # waits 0.8 s more: over 0.5 s of failures in a row make the service unhealthy
    unhealthy = await eventually(lambda: health(app), lambda h: h[0] == 503)
    assert unhealthy == (
        503,
        {"kafka": True, "store": True, "consumers": False, "sweeps": True},
    )
    assert 1 <= len(sink.tried_at) <= FAILURES

    await eventually(lambda: _published(sink, "R1"), bool)
    assert len(sink.tried_at) == FAILURES + 1  # four failures, then the one that landed
    gaps = [b - a for a, b in zip(sink.tried_at, sink.tried_at[1:], strict=False)]
    for number, gap in enumerate(gaps, start=1):  # each retry waited its pause at least
        assert gap >= pause_after(number) - 0.01, gaps
    assert await failures_counted(app, PERSONNEL_TOPIC) == FAILURES
    assert await health(app) == (
        200,
        {"kafka": True, "store": True, "consumers": True, "sweeps": True},
    )


async def _published(sink: FailsAtFirst, *subjects: str) -> list[Change]:
    return [c for c in sink.published if c.subject in subjects]


async def test_a_sweep_that_keeps_failing_is_counted_and_makes_the_service_unhealthy(
    personnel: Personnel, change_sink: FailsAtFirst, producer: AIOKafkaProducer
) -> None:
    """A future-dated appointment falls due; the sweep that applies it cannot publish the
    change while the change topic refuses it, and runs again every 0.2 s."""
    app, sink = personnel.app, change_sink
    sweep_failures = "parity_sweep_failures_total"
    await seed_tree(producer)
    now = personnel.clock.now()
    future = ev.ce("hr.position.appointed", "S1", 0, {"unit_id": "D1", "role": "head"}).model_copy(
        update={"time": now + timedelta(days=10)}
    )
    # the change topic refuses S1 as head of D1, not her registration before
    sink.refuses = lambda change: change.subject == "S1" and positions(change.data) != []
    await produce(producer, PERSONNEL_TOPIC, [ev.person_registered("S1", "D1"), future])
    await eventually(lambda: _published(sink, "S1"), bool)  # registered, not yet appointed
    assert await failures_counted(app, "personnel sweep", sweep_failures) is None

    personnel.clock.advance(timedelta(days=10))  # the appointment falls due
    unhealthy = await eventually(lambda: health(app), lambda h: h[0] == 503)
    assert unhealthy == (
        503,
        {"kafka": True, "store": True, "consumers": True, "sweeps": False},
    )
    failed = await failures_counted(app, "personnel sweep", sweep_failures)
    assert failed is not None
    assert failed >= 2

    sink.refuses = lambda change: False
    appointed = await eventually(
        lambda: _published(sink, "S1"), lambda c: positions(c[-1].data) != []
    )
    assert positions(appointed[-1].data) == [("D1", "head")]
    assert await health(app) == (
        200,
        {"kafka": True, "store": True, "consumers": True, "sweeps": True},
    )
