"""Freshness: single HR events at a fixed rate into a loaded province, each timed from the
record produced to the indicator record of its unit that reflects it.

Each event appoints an active person as deputy head (phó trưởng) of their own home unit, a
leaf of the organisation, at an instant of the current year just before the province's
``now``. Every such event adds one to the unit's ``female_share_of_appointments_ytd``
denominator (re-appointments count as appointments), so the record that reflects event k
is the unit's first feed record whose count reaches the base plus the events sent to that
unit up to k. Leaves have no other descendants, so no other event moves that count.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from aiokafka import AIOKafkaProducer

from bench.probe import FeedRecord, PersonChangeRecord, TopicWatcher
from shared.contract import PERSONNEL_TOPIC
from shared.documents import instant
from shared.envelope import CloudEvent, encode_structured, new_event
from tests.generator.model import Province
from tests.generator.state import Snapshot

SOURCE = "hrms/bench"


@dataclass(frozen=True)
class Appointment:
    unit_id: str
    event: CloudEvent


def appointments(
    snapshot: Snapshot, count: int, now: datetime, *, first: int = 0
) -> list[Appointment]:
    """``count`` appointments spread round-robin over the leaves that have staff, numbered
    from ``first`` (a later run takes the numbers after an earlier one's: new events)."""
    parents = {parent for parent, _ in snapshot.units.values() if parent is not None}
    staff: dict[str, list[str]] = defaultdict(list)
    for person_id, unit_id in sorted(snapshot.people.items()):
        staff[unit_id].append(person_id)
    leaves = sorted(u for u in snapshot.units if u not in parents and staff[u])
    if not leaves:
        raise ValueError("the province has no leaf unit with staff")
    start = now - timedelta(minutes=10)
    chosen = []
    for k in range(first, first + count):
        unit_id = leaves[k % len(leaves)]
        people = staff[unit_id]
        person_id = people[(k // len(leaves)) % len(people)]
        event = new_event(
            source=SOURCE,
            type_="hr.position.appointed",
            subject=person_id,
            time=start + timedelta(milliseconds=k),
            data={"unit_id": unit_id, "role": "deputy_head", "decision_no": f"BENCH-{k}"},
            event_id=f"bench-appointment-{k}",
        )
        chosen.append(Appointment(unit_id, event))
    return chosen


def as_of_today(snapshot: Snapshot, province: Province) -> Snapshot:
    """``snapshot`` (the province at its ``now``) without the people that an event dated
    after that ``now`` changes, or homes in a unit that one changes. The rebuild's processes
    run on the system clock, where such an event may be in effect: an appointment of a
    person who has left since is an anomaly (``event_after_leaving``), not an appointment,
    and no record would reflect it."""
    changed = {event.subject for event in province.events() if event.time > province.now}
    return replace(
        snapshot,
        people={
            person: unit
            for person, unit in snapshot.people.items()
            if person not in changed and unit not in changed
        },
    )


@dataclass
class Freshness:
    sent: int
    rate: float  # events/s actually offered
    published_ms: list[float]  # produced -> indicator record produced (Kafka CreateTimes)
    seen_ms: list[float]  # produced -> indicator record received by a consumer
    missing: int  # events whose record did not come within the wait
    # where the time goes, for the events whose person change was seen too: produced ->
    # the person change published (the personnel service), and that change -> the
    # indicator record published (the indicator service)
    personnel_ms: list[float] = field(default_factory=list)
    indicators_ms: list[float] = field(default_factory=list)
    # pooled from several runs (``pooled``): each run's p50 of ``published_ms``
    run_p50s: list[float] = field(default_factory=list)

    def percentile(self, values: Sequence[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else math.nan


def pooled(runs: Sequence[Freshness]) -> Freshness:
    """Several runs as one: their events together, the rate offered on average, and each
    run's own p50 kept. One run of a few hundred events lasts half a second at the loads
    measured here, and its p50 swung by 40 ms between runs of the same code."""
    return Freshness(
        sent=sum(r.sent for r in runs),
        rate=sum(r.rate for r in runs) / len(runs),
        published_ms=[v for r in runs for v in r.published_ms],
        seen_ms=[v for r in runs for v in r.seen_ms],
        missing=sum(r.missing for r in runs),
        personnel_ms=[v for r in runs for v in r.personnel_ms],
        indicators_ms=[v for r in runs for v in r.indicators_ms],
        run_p50s=[r.percentile(r.published_ms, 0.5) for r in runs],
    )


async def measure(
    producer: AIOKafkaProducer,
    watcher: TopicWatcher[FeedRecord],
    changes: TopicWatcher[PersonChangeRecord],
    chosen: Sequence[Appointment],
    *,
    base: dict[str, int],
    rate: float,
    wait_seconds: float = 60.0,
) -> Freshness:
    """Produce ``chosen`` at ``rate`` events/s (an absolute schedule, no drift), then match
    each one to the feed record that reflects it, and to the person change that carries it
    (``changes`` watches the people topic between the two services)."""
    sent: Counter[str] = Counter()
    expected: list[tuple[str, int]] = []
    futures = []
    started = time.monotonic()
    for k, appointment in enumerate(chosen):
        delay = started + k / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent[appointment.unit_id] += 1
        expected.append(
            (appointment.unit_id, base.get(appointment.unit_id, 0) + sent[appointment.unit_id])
        )
        value, headers = encode_structured(appointment.event)
        futures.append(
            await producer.send(
                PERSONNEL_TOPIC,
                value=value,
                key=appointment.event.subject.encode(),
                headers=headers,
            )
        )
    offered = len(chosen) / max(time.monotonic() - started, 1e-9)
    produced_ms = [metadata.timestamp for metadata in await asyncio.gather(*futures)]
    deadline = time.monotonic() + wait_seconds
    while not all(_match(watcher.records, u, n) for u, n in expected):
        if time.monotonic() > deadline:
            break
        watcher.arrived.clear()
        try:
            await asyncio.wait_for(watcher.arrived.wait(), timeout=0.5)
        except TimeoutError:
            continue
    while not all(_carrying(changes.records, a.event) for a in chosen):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)  # the changes came before the feed records: a moment more
    result = Freshness(len(chosen), offered, [], [], 0)
    for appointment, (unit_id, count), produced in zip(chosen, expected, produced_ms, strict=True):
        record = _match(watcher.records, unit_id, count)
        if record is None:
            result.missing += 1
            continue
        result.published_ms.append(float(record.published_ms - produced))
        result.seen_ms.append(float(record.seen_ms - produced))
        change = _carrying(changes.records, appointment.event)
        if change is not None:
            result.personnel_ms.append(float(change.published_ms - produced))
            result.indicators_ms.append(float(record.published_ms - change.published_ms))
    return result


def _carrying(
    records: Sequence[PersonChangeRecord], event: CloudEvent
) -> PersonChangeRecord | None:
    """The first change of the event's person that carries its appointment."""
    time = instant(event.time)
    return next(
        (r for r in records if r.person_id == event.subject and time in r.appointment_times),
        None,
    )


def _match(records: Sequence[FeedRecord], unit_id: str, count: int) -> FeedRecord | None:
    return next((r for r in records if r.unit_id == unit_id and r.appointments >= count), None)
