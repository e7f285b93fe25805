"""The seeded province the fault tests stream, and a producer that keeps streaming it while
Kafka is killed and restarted.

The services run as processes on the real clock, so the province is generated with ``now``
= the current time, and the independent recomputation is asked at that same ``now``. A
province is taken only if that recomputation is the same at every minute of the time budget
(no future-dated event, training anniversary, due date or year turn falls inside it), so
the comparison stays exact whenever, within the budget, the services read their clock.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer

from shared.kafka import client_options
from shared.settings import KafkaSettings
from tests import reference, reference_inspections
from tests.generator import Province, ProvinceShape, Record, generate_province

# Small enough for FerretDB (the store carries 50-100 events/s when the machine is idle):
# about 540 records for the short form, 1,350 for the long one.
SHORT_SHAPE = ProvinceShape(agencies=1, years=2)
LONG_SHAPE = ProvinceShape(agencies=3, years=2)
Expected = dict[str, dict[str, tuple[int, int | None]]]


def expected_indicators(province: Province, at: datetime) -> Expected:
    """Every active unit's fifteen indicators (numerator, denominator), recomputed
    independently from the province's events as of ``at``."""
    events = province.events()
    world = reference.replay(events, at)
    expected = reference.indicators(world, at)
    for unit_id, figures in reference_inspections.indicators(events, at, world).items():
        expected[unit_id].update(figures)
    return expected


def closed_units(province: Province, at: datetime) -> set[str]:
    world = reference.replay(province.events(), at)
    return {u for u, unit in world.units.items() if unit.closed}


@dataclass(frozen=True)
class Stream:
    seed: int
    province: Province
    expected: Expected
    closed: set[str]


def steady_province(
    seed: int, shape: ProvinceShape, budget: timedelta, *, tries: int = 20
) -> Stream:
    """The province of the first seed from ``seed`` whose recomputation does not change
    over ``budget`` from now (checked minute by minute)."""
    for candidate in range(seed, seed + tries):
        now = datetime.now(UTC)
        province = generate_province(candidate, shape, now=now)
        expected = expected_indicators(province, now)
        minutes = int(budget.total_seconds() // 60) + 1
        later = (now + timedelta(minutes=m) for m in range(1, minutes + 1))
        if all(expected_indicators(province, at) == expected for at in later):
            return Stream(candidate, province, expected, closed_units(province, now))
    raise AssertionError(f"no seed in {seed}..{seed + tries - 1} is steady over {budget}")


@dataclass
class Producing:
    """What the stream producer did: records acknowledged, chunks sent again, time taken."""

    acknowledged: int = 0
    resent_chunks: int = 0
    seconds: float = 0.0


def _producer(settings: KafkaSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        acks="all",
        enable_idempotence=True,
        max_request_size=4 * 1024 * 1024,
        request_timeout_ms=15_000,
        **client_options(settings),
    )


async def produce_paced(
    settings: KafkaSettings,
    records: list[Record],
    *,
    seconds: float,
    chunk: int = 50,
    deadline: float,
) -> Producing:
    """Produce ``records`` in order, in chunks spread over about ``seconds``. A chunk that
    fails (Kafka killed under it) is sent again whole, with a new producer, before the next
    one: its records that did arrive arrive again later, which is a redelivery the contract
    allows, and nothing overtakes anything. Gives up at the ``deadline`` (monotonic)."""
    report = Producing()
    start = time.monotonic()
    chunks = [records[i : i + chunk] for i in range(0, len(records), chunk)]
    pause = seconds / max(1, len(chunks))
    producer = _producer(settings)
    await producer.start()
    try:
        for piece in chunks:
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"stream not produced in time ({report})")
                try:
                    futures = [
                        await producer.send(r.topic, value=r.value, key=r.key, headers=r.headers)
                        for r in piece
                    ]
                    await asyncio.gather(*futures)
                    break
                except Exception:  # Kafka is down: a fresh producer, the whole chunk again
                    report.resent_chunks += 1
                    await _stop_quietly(producer)
                    await asyncio.sleep(1)
                    producer = _producer(settings)
                    await _start_retrying(producer, deadline)
            report.acknowledged += len(piece)
            await asyncio.sleep(pause)
    finally:
        await _stop_quietly(producer)
    report.seconds = time.monotonic() - start
    return report


async def _start_retrying(producer: AIOKafkaProducer, deadline: float) -> None:
    while True:
        try:
            await producer.start()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1)


async def _stop_quietly(producer: AIOKafkaProducer) -> None:
    try:
        await producer.stop()
    except Exception as error:  # a producer cut off from a dead broker; a new one follows
        print(f"stream producer stop: {error!r}")
