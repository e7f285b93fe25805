"""Fault tests: a seeded province streams through the personnel, inspections and indicators
services (each its own OS process) on a private Kafka and FerretDB, while services, Kafka and
the store are killed with ``kill -9`` and restarted, and replicas join and leave. Then every
unit's indicators on the feed are compared with the independent recomputation, every valid
event is found once in its projection, and every poison record on its dead-letter topic
with its reason (see verify.py): nothing lost, nothing counted twice.

The default (short) form runs a small province through one scenario of each kind and is
part of ``make test``; ``PARITY_FAULTS=long`` (``make faults``) runs a larger province
through more scenarios and more kills. ``PARITY_FAULTS_SEED`` replays a run: the seed is
printed with every outcome.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from tests.reliability.conftest import LONG
from tests.reliability.infra import Infrastructure
from tests.reliability.scenarios import (
    Action,
    Outcome,
    Plan,
    infrastructure_killed,
    rebalances,
    run,
    services_killed,
)
from tests.reliability.stream import LONG_SHAPE, SHORT_SHAPE, steady_province

SEED = int(os.environ.get("PARITY_FAULTS_SEED", random.SystemRandom().randrange(10_000)))
SHAPE = LONG_SHAPE if LONG else SHORT_SHAPE
STREAM_SECONDS = 25.0
BUDGET_SECONDS = 420.0 if LONG else 200.0  # one scenario, every wait included
# The recomputation must hold for the whole session (see stream.steady_province).
SESSION_BUDGET = timedelta(minutes=40 if LONG else 10)

pytestmark = pytest.mark.integration


async def run_plans(
    infrastructure: Infrastructure, service_logs: Path, plans: Callable[[int], Plan], runs: int
) -> list[Outcome]:
    outcomes, failures = [], []
    for number in range(runs):  # every run, then the verdict: the figures of all of them
        seed = SEED * 100 + number
        stream = steady_province(seed, SHAPE, SESSION_BUDGET)
        outcome = await run(
            plans(seed), infrastructure, stream, service_logs, budget=BUDGET_SECONDS
        )
        summary = f"[seed {seed}, province {stream.seed}] {outcome.summary()}"
        print(f"\n{summary}")
        outcomes.append(outcome)
        found = outcome.findings
        if not found.clean:
            failures.append(
                f"{summary}\nindicators {found.indicators}\nfeed {found.feed}\n"
                f"histories {found.histories}\ndead letters {found.dead_letters}\n"
                f"projections {found.projections}"
            )
        failures += outcome.unexpected_exits
    assert not failures, "\n\n".join(failures)
    return outcomes


async def test_undisturbed_stream_matches_and_each_poison_record_is_dead_lettered_once(
    infrastructure: Infrastructure, service_logs: Path
) -> None:
    (outcome,) = await run_plans(infrastructure, service_logs, lambda _: Plan("no faults", ()), 1)
    assert outcome.findings.dead_letter_records > 0  # the generator's poison got there


async def test_services_kafka_and_the_store_killed_lose_and_double_nothing(
    infrastructure: Infrastructure, service_logs: Path
) -> None:
    """Each service killed once, then Kafka and the store, on one stream; the long form
    kills each service three times on each of two streams, and Kafka and the store twice
    each on a third."""

    def plan(seed: int) -> Plan:
        rng = random.Random(seed)
        if LONG:  # each kind of fault on its own stream
            if seed % 100 < 2:
                return services_killed(rng, 3, STREAM_SECONDS)
            return infrastructure_killed(rng, 2, STREAM_SECONDS)
        services = services_killed(rng, 1, STREAM_SECONDS)
        components = infrastructure_killed(rng, 1, STREAM_SECONDS)
        faults = tuple(sorted(services.faults + components.faults, key=lambda f: f.at))
        return Plan("services, kafka and store killed", faults, stream_seconds=STREAM_SECONDS)

    outcomes = await run_plans(infrastructure, service_logs, plan, 3 if LONG else 1)
    for o in outcomes:  # every planned kill took place
        assert sum(o.service_kills.values()) + sum(o.infrastructure_kills.values()) == len(
            o.plan.faults
        )


@pytest.mark.parametrize("removal", ["remove", "remove-kill"])
async def test_replicas_joining_and_leaving_mid_stream_lose_and_double_nothing(
    infrastructure: Infrastructure, service_logs: Path, removal: Action
) -> None:
    if not LONG and removal == "remove-kill":
        pytest.skip("the long form (PARITY_FAULTS=long) also removes replicas by kill -9")
    await run_plans(
        infrastructure,
        service_logs,
        lambda seed: rebalances(random.Random(seed), STREAM_SECONDS, removal=removal),
        1,
    )
