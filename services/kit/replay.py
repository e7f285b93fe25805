"""Replaying a province's past through the services, a year at a time (``parity demo``).

The indicator history records what the indicator service published and when, by its clock
(services/indicators/store.py). Events loaded all at once are folded all at once: every
record would say "today", and a report's trend would have one point. Stamping those records
with the events' past times instead would not be honest: the figures depend on when they
are computed (a training qualifies for five years, appointments and inspections count for
their year, a recommendation becomes overdue) and a person's current state no longer says
which positions they held before. So the past is replayed as it would have been lived: the
personnel, inspection and indicator services run in this process with a clock that stands at
the end of each year of the events (23:59:59 on 31 December, Vietnam time), the year's events
are produced, and the next year starts once every consumer group has caught up. The last
stage runs at the real time with whatever is left (future-dated events wait, as ever).

The services run with their own settings (``PARITY_*``: the same databases and consumer
groups as ``make run``), so they must not be running meanwhile: :func:`running_services`
tells. Afterwards ``make run`` takes over from the committed offsets and stored state.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from services.indicators.app import IndicatorsSettings
from services.indicators.app import build as build_indicators
from services.indicators.app import consumer_groups as indicators_groups
from services.inspections.app import InspectionsSettings
from services.inspections.app import build as build_inspections
from services.inspections.app import consumer_groups as inspections_groups
from services.kit.records import OutboundRecord
from services.personnel.app import PersonnelSettings
from services.personnel.app import build as build_personnel
from services.personnel.app import consumer_groups as personnel_groups
from shared.clock import VIETNAM, ManualClock
from shared.envelope import decode_record
from shared.lag import LagProbe, wait_caught_up
from shared.plans import load_plans
from shared.settings import KafkaSettings


class ReplayError(Exception):
    """The replay cannot start or did not settle (a clear message)."""


@dataclass
class Stage:
    """The services' clock for one step, and the events produced at it."""

    clock: datetime
    records: list[OutboundRecord] = field(default_factory=list)


def year_end(year: int) -> datetime:
    """The last second of a year in Vietnam (the history's year-end cut-off is the next)."""
    return datetime(year, 12, 31, 23, 59, 59, tzinfo=VIETNAM)


def stages(events: Iterable[tuple[datetime, OutboundRecord]], now: datetime) -> list[Stage]:
    """One stage per year end from the events' first year until ``now`` (years without
    events too: the services see every new year), then one at ``now`` with the rest.

    An event goes to the first stage whose clock has reached its effective time; events
    after ``now`` go to the last stage (the services hold them until their time)."""
    ordered = sorted(events, key=lambda pair: pair[0])
    first = min((t.astimezone(VIETNAM).year for t, _ in ordered), default=now.year)
    years = [y for y in range(first, now.astimezone(VIETNAM).year + 1) if year_end(y) < now]
    found = [Stage(year_end(y)) for y in years] + [Stage(now)]
    position = 0
    for instant, record in ordered:
        while position < len(found) - 1 and found[position].clock < instant:
            position += 1
        found[position].records.append(record)
    return found


def effective_time(record: OutboundRecord) -> datetime:
    """The effective ``time`` of a checked record, as the consumers' decoder reads it."""
    return decode_record(record.topic, record.value, list(record.headers)).time


def pipeline_groups(*, personnel: str, inspections: str, indicators: str) -> dict[str, list[str]]:
    """Every consumer group of the three services that turn HR and inspection records into
    the indicator feed, with its topics, given each service's ``group_id``."""
    return {
        **personnel_groups(personnel),
        **inspections_groups(inspections),
        **indicators_groups(indicators),
    }


@dataclass(frozen=True)
class Services:
    personnel: PersonnelSettings
    inspections: InspectionsSettings
    indicators: IndicatorsSettings

    @classmethod
    def from_environment(cls) -> Services:
        return cls(PersonnelSettings(), InspectionsSettings(), IndicatorsSettings())

    @property
    def kafka(self) -> KafkaSettings:
        return self.personnel.kafka

    def groups(self) -> dict[str, list[str]]:
        """Every consumer group of the three services, with its topics."""
        return pipeline_groups(
            personnel=self.personnel.group_id,
            inspections=self.inspections.group_id,
            indicators=self.indicators.group_id,
        )

    def ports(self) -> dict[str, int]:
        return {
            "personnel": self.personnel.metrics_port,
            "inspections": self.inspections.metrics_port,
            "indicators": self.indicators.metrics_port,
        }

    def sweep_seconds(self) -> float:
        return max(
            self.personnel.sweep_interval_seconds,
            self.inspections.sweep_interval_seconds,
            self.indicators.sweep_interval_seconds,
        )


def running_services(services: Services) -> list[str]:
    """The services whose metrics port answers on 127.0.0.1 (``make run`` is going)."""
    found = []
    for name, port in services.ports().items():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
        except OSError:
            continue
        found.append(f"{name} (:{port})")
    return found


async def settle(
    kafka: KafkaSettings, groups: Mapping[str, Sequence[str]], *, timeout: float
) -> None:
    """Wait until every group has committed everything (shared.lag.wait_caught_up)."""
    probe = LagProbe(kafka, client_id="parity-demo-replay")
    await probe.start()
    try:
        await wait_caught_up(probe, groups, timeout=timeout)
    except TimeoutError as error:
        raise ReplayError(f"the services did not catch up: {error}") from error
    finally:
        await probe.close()


class Sender(Protocol):
    """What produces a stage's records (services.kit.producing.KafkaSender)."""

    async def send(self, record: OutboundRecord) -> None: ...

    async def flush(self) -> None: ...


async def replay(
    plan: Sequence[Stage],
    *,
    services: Services,
    sender: Sender,
    on_stage: Callable[[Stage], None],
    timeout: float = 600.0,
) -> None:
    """Run the three services on a clock that walks through ``plan``, producing each stage's
    records at its clock and waiting for the services to catch up before the next."""
    if not plan:
        return
    clock = ManualClock(plan[0].clock)
    groups = services.groups()
    plans = load_plans(services.indicators.plans_dir)
    async with (
        build_personnel(services.personnel, clock=clock),
        build_inspections(services.inspections, clock=clock),
        build_indicators(services.indicators, clock=clock, plans=plans),
    ):
        for stage in plan:
            clock.set(stage.clock)
            # let the sweeps see the new time (trainings age, recommendations fall overdue)
            await asyncio.sleep(3 * services.sweep_seconds())
            for record in stage.records:
                await sender.send(record)
            await sender.flush()
            await settle(services.kafka, groups, timeout=timeout)
            on_stage(stage)
