"""The measured runs: a province end to end in this process (optionally followed by the
freshness runs), and a full rebuild by three service processes (optionally followed by
freshness runs on them: the services as deployed)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from bench.freshness import Freshness, appointments, measure, pooled
from bench.machine import CpuMeter, cpu_seconds, peak_resident_mb
from bench.pipeline import (
    Names,
    check_all_alive,
    drop_databases,
    in_process,
    produce,
    start_processes,
    stop_processes,
)
from bench.probe import (
    Groups,
    LagProbe,
    TopicWatcher,
    feed_record,
    latest_appointments,
    person_change_record,
)
from bench.profile import Sampler, StoreBusy, where_time_goes
from shared.clock import VIETNAM, ManualClock
from shared.contract import INDICATORS_TOPIC, INSPECTIONS_TOPIC, PERSONNEL_TOPIC, UNITS_TOPIC
from shared.internal import PEOPLE_CHANGES_TOPIC
from shared.settings import KafkaSettings
from shared.store import Document
from tests.generator import Province
from tests.generator.state import Snapshot
from tests.integration.kafka_tools import read_to_end

INBOUND = (UNITS_TOPIC, PERSONNEL_TOPIC, INSPECTIONS_TOPIC)


@dataclass
class Infra:
    """What every run needs: the clients, the probes and the bench's own infrastructure."""

    kafka: KafkaSettings
    mongodb_url: str
    mongo: AsyncMongoClient[Document]
    producer: AIOKafkaProducer
    probe: LagProbe
    busy: StoreBusy
    infra_pids: dict[str, int]
    settle_timeout: float


@dataclass
class EndToEnd:
    events: int
    seconds: float
    store_busy_seconds: float
    cpu_seconds: dict[str, float]  # this process, ferretdb, kafka, the rest of the machine
    store_commands: dict[str, tuple[int, float]]  # command -> (count, seconds in flight)
    written: dict[str, int]  # <service>.<collection> -> documents sent to be written
    # <service>.<collection> -> seconds its reads (find, getMore, aggregate, count) were in flight
    read_seconds: dict[str, float] = field(default_factory=dict)
    freshness: Freshness | None = None
    # the same events at a quarter of the end-to-end rate: where the latency stands below
    # the load that the target names
    quarter_freshness: Freshness | None = None
    # the same events at half the upsert ceiling's rate, the rate the target names: above
    # what Parity sustains end to end here, so they queue, and the figures grow with the
    # number of events sent
    ceiling_freshness: Freshness | None = None
    idle_freshness: Freshness | None = None

    @property
    def per_second(self) -> float:
        return self.events / self.seconds

    @property
    def per_event_ms(self) -> float:
        return 1000 * self.seconds / self.events


async def end_to_end(
    infra: Infra,
    province: Province,
    label: str,
    *,
    snapshot: Snapshot | None = None,
    freshness_events: int = 0,
    freshness_runs: int = 1,
    idle_events: int = 0,
    idle_interval: float = 2.0,
    ceiling_rate: float | None = None,
) -> EndToEnd:
    """Start the services, produce every record of ``province``, wait until the feed is
    settled. With a ``snapshot``, then run the freshness events at half the measured rate
    (``freshness_runs`` times, pooled), as many again at a quarter of it, as many again at
    half ``ceiling_rate`` if given, and then ``idle_events`` more, one every
    ``idle_interval`` seconds (an idle system)."""
    names = Names.fresh(label)
    clock = ManualClock(province.now)
    meter = CpuMeter({"parity (this process)": os.getpid(), **infra.infra_pids})
    try:
        async with in_process(names, kafka=infra.kafka, mongodb_url=infra.mongodb_url, clock=clock):
            result = await _measured(
                infra, province, names.groups(), meter, events=len(province.records)
            )
            if snapshot is None:
                return result
            # each run numbers its events after the last run's: new appointments
            firsts = itertools.count(0, freshness_events)

            async def offered(count: int, rate: float) -> Freshness:
                first = next(firsts)
                return await _freshness(
                    infra, snapshot, count, rate=rate, first=first, now=province.now
                )

            if freshness_events:
                half = result.per_second / 2
                result.freshness = pooled(
                    [await offered(freshness_events, half) for _ in range(freshness_runs)]
                )
                result.quarter_freshness = await offered(freshness_events, result.per_second / 4)
                if ceiling_rate is not None:
                    result.ceiling_freshness = await offered(freshness_events, ceiling_rate / 2)
            if idle_events:
                result.idle_freshness = await offered(idle_events, 1 / idle_interval)
            return result
    finally:
        await drop_databases(infra.mongo, names)


@dataclass
class Deployed:
    """The end to end of a province by the services as deployed."""

    events: int
    seconds: float
    cpu_seconds: dict[str, float]

    @property
    def per_second(self) -> float:
        return self.events / self.seconds


async def deployed_end_to_end(infra: Infra, province: Province, log_dir: Path) -> Deployed:
    """The end to end with the services as deployed: a process each (on the system clock),
    started on empty topics (the caller recreates them) and joined to their groups before
    the first record; then every record of ``province`` produced, until the feed settled.
    The in-process end to end hosts the three services on one event loop, beside the
    bench's producer."""
    names = Names.fresh("deployed")
    processes = start_processes(
        names, kafka=infra.kafka, mongodb_url=infra.mongodb_url, log_dir=log_dir
    )
    alive = functools.partial(check_all_alive, processes)
    try:
        await infra.probe.wait_joined(list(names.groups()), timeout=120, check=alive)
        meter = CpuMeter(infra.infra_pids)
        before = {s.name: cpu_seconds(s.pid) for s in processes}
        meter.start()
        started = time.monotonic()
        await produce(infra.producer, province.records)
        seconds = await infra.probe.wait_settled(
            names.groups(), started=started, timeout=infra.settle_timeout, check=alive
        )
        used = meter.stop({s.name: cpu_seconds(s.pid) - before[s.name] for s in processes})
    finally:
        await stop_processes(processes)
        await drop_databases(infra.mongo, names)
    return Deployed(len(province.records), seconds, used)


async def personnel_alone(infra: Infra, province: Province) -> EndToEnd:
    """The personnel service alone: the HR records produced, until its groups committed
    everything (the inspection records are produced too, and nobody reads them)."""
    names = Names.fresh("personnel")
    meter = CpuMeter({"parity (this process)": os.getpid(), **infra.infra_pids})
    try:
        async with in_process(
            names,
            kafka=infra.kafka,
            mongodb_url=infra.mongodb_url,
            clock=ManualClock(province.now),
            services=("personnel",),
        ):
            hr = sum(1 for r in province.records if r.topic != INSPECTIONS_TOPIC)
            return await _measured(infra, province, names.personnel_groups(), meter, events=hr)
    finally:
        await drop_databases(infra.mongo, names)


async def _measured(
    infra: Infra, province: Province, groups: Groups, meter: CpuMeter, *, events: int
) -> EndToEnd:
    """Produce every record of ``province`` and measure until ``groups`` committed all."""
    meter.start()
    infra.busy.start()
    started = time.monotonic()
    await produce(infra.producer, province.records)
    seconds = await infra.probe.wait_settled(groups, started=started, timeout=infra.settle_timeout)
    return EndToEnd(
        events=events,
        seconds=seconds,
        store_busy_seconds=infra.busy.stop(),
        cpu_seconds=meter.stop(),
        store_commands={
            name: (count, infra.busy.command_seconds[name])
            for name, count in infra.busy.commands.most_common()
        },
        written=dict(infra.busy.written.most_common()),
        read_seconds=dict(sorted(infra.busy.read_seconds.items(), key=lambda kv: -kv[1])),
    )


async def _freshness(
    infra: Infra, snapshot: Snapshot, count: int, *, rate: float, first: int, now: datetime
) -> Freshness:
    """``count`` appointments (numbered from ``first``, taking effect just before ``now``:
    the services' clock) at ``rate``, each timed to the feed record that reflects it."""
    # The feed holds a record for every unit status published (hundreds of thousands for the
    # 290,000-record province). Parsing them all on the event loop the services share took
    # longer than their consumers' session timeout on a slow machine: every group lost its
    # members, and the indicator service reloaded the province (40 s) inside the freshness
    # run. In a thread, the loop goes on between the parser's GIL turns, heartbeats too.
    feed = await read_to_end(infra.kafka, INDICATORS_TOPIC)
    base = await asyncio.to_thread(latest_appointments, feed)
    watcher = TopicWatcher(infra.kafka, feed_record)
    changes = TopicWatcher(infra.kafka, person_change_record)
    await watcher.start(await infra.probe.partitions(INDICATORS_TOPIC))
    try:
        await changes.start(await infra.probe.partitions(PEOPLE_CHANGES_TOPIC))
        chosen = appointments(snapshot, count, now, first=first)
        return await measure(infra.producer, watcher, changes, chosen, base=base, rate=rate)
    finally:
        await changes.stop()
        await watcher.stop()


@dataclass
class Rebuild:
    seconds: float
    peak_resident_mb: dict[str, float]
    cpu_seconds: dict[str, float]
    profiles: dict[str, dict[str, float]] = field(default_factory=dict)
    freshness: Freshness | None = None  # on the rebuilt processes (:class:`DeployedFreshness`)
    ceiling_freshness: Freshness | None = None  # the same at half the upsert ceiling


@dataclass(frozen=True)
class DeployedFreshness:
    """Freshness runs offered to the rebuild's service processes once they settled: the
    services as deployed, a process each, where the end-to-end run hosts all three on one
    event loop with the bench's producer and watchers."""

    snapshot: Snapshot
    events: int  # per run
    runs: int  # pooled
    rate: float  # events/s offered
    ceiling_rate: float | None = None  # if given, one run more at half of it


# The rebuild re-reads the inbound topics, the end-to-end run's freshness events with them:
# the deployed runs number theirs beyond, new events (an id seen before is a redelivery).
DEPLOYED_FIRST = 100_000


async def rebuild(
    infra: Infra, log_dir: Path, *, profile: bool, freshness: DeployedFreshness | None = None
) -> Rebuild:
    """Fresh service processes (new groups, empty databases) on the loaded topics (the
    caller recreates the topics between the services); with ``freshness``, its runs once
    they settled (memory, CPU and profiles are taken before)."""
    names = Names.fresh("rebuild")
    meter = CpuMeter(infra.infra_pids)
    meter.start()
    started = time.monotonic()
    processes = start_processes(
        names, kafka=infra.kafka, mongodb_url=infra.mongodb_url, log_dir=log_dir
    )
    samplers: list[tuple[str, Sampler]] = []
    fresh: tuple[Freshness | None, Freshness | None] = (None, None)
    try:
        if profile:
            await asyncio.sleep(1.0)  # let the interpreters start before py-spy attaches
            for service in processes:
                sampler = Sampler(service.pid, log_dir / f"{names.run}-{service.name}.pyspy")
                if sampler.start():
                    samplers.append((service.name, sampler))
        alive = functools.partial(check_all_alive, processes)
        seconds = await infra.probe.wait_settled(
            names.groups(), started=started, timeout=infra.settle_timeout, check=alive
        )
        used = meter.stop({s.name: cpu_seconds(s.pid) for s in processes})
        memory = {s.name: peak_resident_mb(s.pid) for s in processes}
        _stop_samplers(samplers, now=True)  # py-spy would sample the freshness runs too
        if freshness is not None:
            fresh = await _deployed_freshness(infra, freshness)
            alive()
    finally:
        await stop_processes(processes)
        _stop_samplers(samplers)
        await drop_databases(infra.mongo, names)
    result = Rebuild(seconds, memory, used, freshness=fresh[0], ceiling_freshness=fresh[1])
    for name, sampler in samplers:
        if sampler.output.is_file():
            result.profiles[name] = where_time_goes(sampler.output)
    return result


def _stop_samplers(samplers: list[tuple[str, Sampler]], *, now: bool = False) -> None:
    for _, sampler in samplers:
        with contextlib.suppress(Exception):
            sampler.stop(now=now)


async def _deployed_freshness(
    infra: Infra, plan: DeployedFreshness
) -> tuple[Freshness, Freshness | None]:
    """The processes run on the system clock, not the province's: the appointments take
    effect just before now, of people no event since the province's ``now`` changed (the
    caller's snapshot is :func:`bench.freshness.as_of_today`'s). The runs at ``rate``
    pooled, then the one at half ``ceiling_rate`` if given."""
    rates = [plan.rate] * plan.runs
    if plan.ceiling_rate is not None:
        rates.append(plan.ceiling_rate / 2)
    # appointment k takes effect k ms after ten minutes before ``now`` (bench/freshness.py):
    # ``now`` is moved back by the last k, so that none is future-dated (it would wait)
    last = DEPLOYED_FIRST + len(rates) * plan.events
    now = datetime.now(VIETNAM) - timedelta(milliseconds=last)
    runs = [  # each run's events are new ones
        await _freshness(infra, plan.snapshot, plan.events, rate=rate, first=first, now=now)
        for first, rate in zip(range(DEPLOYED_FIRST, last, plan.events), rates, strict=True)
    ]
    return pooled(runs[: plan.runs]), runs[plan.runs] if plan.ceiling_rate is not None else None
