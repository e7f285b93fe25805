"""A fault scenario: the province streams through the three services while faults happen at
seeded random moments; then the pipeline settles and is checked (see verify.py).

A plan is a list of faults on a timeline (seconds after the stream starts). A killed
service or component is restarted after a short, seeded pause; a replica added joins its
group (a rebalance); a replica removed leaves it, gracefully or by ``kill -9``. A process
that ends on its own is restarted as a supervisor would, and reported.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from aiokafka.errors import KafkaError

from shared.store import make_mongo_client
from shared.topics import all_topics
from tests.integration.kafka_tools import lag, recreate_topics
from tests.reliability.infra import PARTITIONS, Infrastructure
from tests.reliability.services import BULK_MARKS, SERVICES, Fleet, Names
from tests.reliability.stream import Producing, Stream, produce_paced
from tests.reliability.verify import (
    Findings,
    check_dead_letters,
    check_feed,
    check_histories,
    check_projections,
)

Action = Literal["kill", "add", "remove", "remove-kill"]


@dataclass(frozen=True)
class Fault:
    at: float  # seconds after the stream starts
    action: Action
    target: str  # a service, or "kafka" / "ferretdb" (kill only)
    down_for: float = 1.0  # seconds between a kill and the restart

    def __str__(self) -> str:
        return f"{self.action} {self.target} at {self.at:.1f}s (down {self.down_for:.1f}s)"


@dataclass(frozen=True)
class Plan:
    name: str
    faults: tuple[Fault, ...]
    replicas: tuple[tuple[str, int], ...] = tuple((s, 1) for s in SERVICES)
    stream_seconds: float = 25.0


def services_killed(rng: random.Random, kills_each: int, stream_seconds: float) -> Plan:
    faults = [
        Fault(rng.uniform(2, stream_seconds + 30), "kill", service, rng.uniform(0.2, 3))
        for service in SERVICES
        for _ in range(kills_each)
    ]
    return Plan(f"services killed x{kills_each}", _timeline(faults), stream_seconds=stream_seconds)


def infrastructure_killed(rng: random.Random, kills_each: int, stream_seconds: float) -> Plan:
    faults = [
        Fault(rng.uniform(3, stream_seconds), "kill", component, rng.uniform(0.5, 4))
        for component in ("kafka", "ferretdb")
        for _ in range(kills_each)
    ]
    return Plan(
        f"kafka and store killed x{kills_each}", _timeline(faults), stream_seconds=stream_seconds
    )


def rebalances(rng: random.Random, stream_seconds: float, *, removal: Action) -> Plan:
    """Two replicas of personnel and of indicators; a third joins, then one leaves."""
    faults = []
    for service in ("personnel", "indicators"):
        joins = rng.uniform(3, stream_seconds / 2)
        faults.append(Fault(joins, "add", service))
        faults.append(Fault(rng.uniform(joins + 2, stream_seconds), removal, service))
    return Plan(
        f"replicas added and removed ({removal})",
        _timeline(faults),
        replicas=(("personnel", 2), ("inspections", 1), ("indicators", 2)),
        stream_seconds=stream_seconds,
    )


def _timeline(faults: list[Fault]) -> tuple[Fault, ...]:
    return tuple(sorted(faults, key=lambda f: f.at))


@dataclass
class Outcome:
    plan: Plan
    findings: Findings
    producing: Producing
    service_kills: Counter[str]
    service_restarts: Counter[str]
    infrastructure_kills: dict[str, int]
    unexpected_exits: list[str] = field(default_factory=list)
    refused_startups: int = 0
    bulk_catch_ups: tuple[int, int] = (0, 0)  # personnel's: on a start, behind a batch
    fault_log: list[str] = field(default_factory=list)
    settle_seconds: float = 0.0
    total_seconds: float = 0.0

    def summary(self) -> str:
        kills = {**dict(self.service_kills), **{k: v for k, v in self.infrastructure_kills.items()}}
        return (
            f"{self.plan.name}: {self.total_seconds:.0f}s (stream {self.producing.seconds:.0f}s,"
            f" settle {self.settle_seconds:.0f}s), kills {kills}, restarts"
            f" {dict(self.service_restarts)}, chunks re-sent {self.producing.resent_chunks},"
            f" feed records {self.findings.feed_records}, dead letters"
            f" {self.findings.dead_letter_records}, start-ups refused {self.refused_startups},"
            f" personnel bulk catch-ups {self.bulk_catch_ups[0]} on a start and"
            f" {self.bulk_catch_ups[1]} behind a batch,"
            f" crashes {len(self.unexpected_exits)}; faults: {'; '.join(self.fault_log)}"
        )


async def run(
    plan: Plan, infra: Infrastructure, stream: Stream, logs: Path, *, budget: float
) -> Outcome:
    """Stream the province through the services under ``plan``; settle; check. Every wait is
    bounded by ``budget`` seconds in all."""
    start = time.monotonic()
    deadline = start + budget
    await recreate_topics(infra.kafka, all_topics(PARTITIONS))
    names = Names(uuid.uuid4().hex[:8])
    fleet = Fleet(infra, names, logs)
    infra_kills_before = dict(infra.kills)
    exits: list[str] = []
    refused_startups = [0]
    fault_log: list[str] = []
    stop_supervising = asyncio.Event()

    async def supervise() -> None:
        while not stop_supervising.is_set():
            crashes, refused = fleet.supervise()
            exits.extend(crashes)
            refused_startups[0] += refused
            await asyncio.sleep(1)

    async def inject() -> None:
        stream_start = time.monotonic()
        for fault in plan.faults:
            await asyncio.sleep(max(0.0, stream_start + fault.at - time.monotonic()))
            fault_log.append(f"{fault} -> at {time.monotonic() - stream_start:.1f}s")
            await _apply(fault, fleet, infra)

    mongo = make_mongo_client(infra.mongodb_url, app_name="fault-tests")
    try:
        for service, count in plan.replicas:
            for _ in range(count):
                fleet.add(service)
        supervisor = asyncio.create_task(supervise())
        producing, _ = await asyncio.gather(
            produce_paced(
                infra.kafka,
                stream.province.records,
                seconds=plan.stream_seconds,
                deadline=deadline,
            ),
            inject(),
        )
        settle_start = time.monotonic()
        await settle(infra, names, deadline=deadline)
        settle_seconds = time.monotonic() - settle_start
        stop_supervising.set()
        await supervisor
        findings = await check_feed(infra.kafka, mongo, names, stream)
        await check_histories(mongo, names, stream.province, findings)
        await check_projections(infra.kafka, mongo, names, stream.province, findings)
        await check_dead_letters(
            infra.kafka, stream.province, findings, exactly_once=not plan.faults
        )
        bulk = tuple(fleet.count_in_logs("personnel", mark) for mark in BULK_MARKS)
    finally:
        stop_supervising.set()
        fleet.close()
        for service in SERVICES:
            await mongo.drop_database(names.database(service))
        await mongo.close()
    return Outcome(
        plan=plan,
        findings=findings,
        producing=producing,
        service_kills=fleet.kills,
        service_restarts=fleet.restarts,
        infrastructure_kills={k: v - infra_kills_before[k] for k, v in infra.kills.items()},
        unexpected_exits=exits,
        refused_startups=refused_startups[0],
        bulk_catch_ups=(bulk[0], bulk[1]),
        fault_log=fault_log,
        settle_seconds=settle_seconds,
        total_seconds=time.monotonic() - start,
    )


async def settle(infra: Infrastructure, names: Names, *, deadline: float) -> None:
    """Wait until every consumer group has committed all of its topics, three looks in a row
    (a group may publish to another meanwhile); a look that Kafka cannot answer yet (its
    group coordinator loading after a restart) is taken again."""
    settled = 0
    lags: dict[str, int | str] = {}
    while settled < 3:
        if time.monotonic() > deadline:
            raise AssertionError(f"consumers still behind at the deadline: {lags}")
        try:
            lags = {g: await lag(infra.kafka, g, t) for g, t in names.consumer_groups().items()}
        except KafkaError as error:
            lags, settled = {"(unreadable)": str(error)}, 0
            await asyncio.sleep(1)
            continue
        settled = settled + 1 if not any(lags.values()) else 0
        await asyncio.sleep(1)


async def _apply(fault: Fault, fleet: Fleet, infra: Infrastructure) -> None:
    if fault.target in ("kafka", "ferretdb"):
        infra.kill(fault.target)
        await asyncio.sleep(fault.down_for)
        await asyncio.to_thread(infra.restart, fault.target)
        return
    if fault.action == "add":
        fleet.add(fault.target)
        return
    running = fleet.running(fault.target)
    if not running:
        raise AssertionError(f"no running {fault.target} for: {fault}")
    victim = random.Random(fault.at).choice(running)
    if fault.action == "remove":
        await asyncio.to_thread(victim.stop)
    elif fault.action == "remove-kill":
        fleet.kill(victim)
    else:
        fleet.kill(victim)
        await asyncio.sleep(fault.down_for)
        fleet.restart(victim)
