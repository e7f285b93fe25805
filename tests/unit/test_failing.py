"""shared/failing.py without I/O: the pauses, the count, and when a service is unhealthy."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from shared.failing import LONGEST_PAUSE_SECONDS, Failures, pause_after


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def failures(clock: Clock, registry: CollectorRegistry | None = None) -> Failures:
    return Failures(
        registry=registry or CollectorRegistry(),
        unhealthy_after=1.0,
        monotonic=clock.monotonic,
        sleep=clock.sleep,
    )


async def fail(watched: Failures, subscriber: str) -> None:
    with pytest.raises(ConnectionError, match="store away"):
        async with watched.watch(subscriber):
            raise ConnectionError("store away")


async def succeed(watched: Failures, subscriber: str) -> None:
    async with watched.watch(subscriber):
        pass


def test_the_pause_doubles_from_a_tenth_of_a_second_up_to_the_longest() -> None:
    assert [pause_after(n) for n in range(1, 8)] == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0]
    assert pause_after(1000) == LONGEST_PAUSE_SECONDS


async def test_a_failure_goes_through_after_its_pause_and_is_counted() -> None:
    clock, registry = Clock(), CollectorRegistry()
    watched = failures(clock, registry)
    for _ in range(3):
        await fail(watched, "hr.personnel.v1")
    assert clock.slept == [0.1, 0.2, 0.4]
    count = registry.get_sample_value(
        "parity_batch_failures_total", {"subscriber": "hr.personnel.v1"}
    )
    assert count == 3


async def test_a_success_forgets_the_failures_in_a_row() -> None:
    clock = Clock()
    watched = failures(clock)
    await fail(watched, "hr.personnel.v1")
    await fail(watched, "hr.personnel.v1")
    await succeed(watched, "hr.personnel.v1")
    clock.now += 5  # past the limit: healthy, as nothing is failing now
    assert await watched.healthy()
    await fail(watched, "hr.personnel.v1")
    assert clock.slept == [0.1, 0.2, 0.1]  # the pauses start again
    assert await watched.healthy()  # and so does the time failing


async def test_unhealthy_once_a_subscriber_has_failed_for_longer_than_the_limit() -> None:
    clock = Clock()
    watched = failures(clock)
    await fail(watched, "hr.personnel.v1")  # since 100.0; now 100.1
    await fail(watched, "hr.personnel.v1")  # now 100.3
    assert await watched.healthy()
    clock.now = 101.0  # failing for exactly the limit
    assert await watched.healthy()
    clock.now = 101.01
    assert not await watched.healthy()
    await succeed(watched, "hr.personnel.v1")
    assert await watched.healthy()


async def test_one_subscribers_success_does_not_clear_anothers_failures() -> None:
    clock = Clock()
    watched = failures(clock)
    await fail(watched, "hr.units.v1")
    await succeed(watched, "hr.personnel.v1")
    clock.now += 5
    assert not await watched.healthy()


async def test_a_cancellation_is_not_a_failure() -> None:
    """A shutdown cancels a batch: it is neither paused after nor counted."""
    clock, registry = Clock(), CollectorRegistry()
    watched = failures(clock, registry)
    with pytest.raises(asyncio.CancelledError):
        async with watched.watch("hr.personnel.v1"):
            raise asyncio.CancelledError
    assert clock.slept == []
    assert (
        registry.get_sample_value("parity_batch_failures_total", {"subscriber": "hr.personnel.v1"})
        is None
    )
    clock.now += 5
    assert await watched.healthy()


async def test_the_warning_names_the_errors_type_not_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A message may quote a record's content (FastStream logs the error itself)."""
    watched = failures(Clock())
    with caplog.at_level("WARNING", logger="parity"):
        await fail(watched, "hr.personnel.v1")
    assert "hr.personnel.v1: batch failed (1 in a row" in caplog.text
    assert "ConnectionError" in caplog.text
    assert "store away" not in caplog.text


def sweep_failures(registry: CollectorRegistry, sweep: str) -> float | None:
    return registry.get_sample_value("parity_sweep_failures_total", {"sweep": sweep})


async def test_a_sweep_that_fails_every_run_for_longer_than_the_limit_is_unhealthy() -> None:
    clock, registry = Clock(), CollectorRegistry()
    watched = failures(clock, registry)
    watched.sweep_ran("personnel sweep", failed=True)  # since 100.0
    clock.now = 101.0
    watched.sweep_ran("personnel sweep", failed=True)
    assert await watched.sweeps_healthy()  # failing for exactly the limit
    clock.now = 101.01
    assert not await watched.sweeps_healthy()
    assert await watched.healthy()  # the subscribers are another check
    assert sweep_failures(registry, "personnel sweep") == 2
    watched.sweep_ran("personnel sweep", failed=False)
    assert await watched.sweeps_healthy()
    assert sweep_failures(registry, "personnel sweep") == 2
    assert clock.slept == []  # a sweep waits its own interval, not a pause


async def test_one_sweeps_success_does_not_clear_anothers_failures() -> None:
    clock = Clock()
    watched = failures(clock)
    watched.sweep_ran("notifications calendar", failed=True)
    watched.sweep_ran("personnel sweep", failed=False)
    clock.now += 5
    assert not await watched.sweeps_healthy()
    assert set(watched.health_checks()) == {"consumers", "sweeps"}
    assert not await watched.health_checks()["sweeps"]()
    assert await watched.health_checks()["consumers"]()
