"""Background tasks stop when the service stops (shared/service.py), even when something
inside them turns a cancellation into another error, as PyMongo does with one that reaches a
connection; before, such a task went on and the shutdown waited for it for ever."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import CollectorRegistry

from shared import service
from shared.failing import Failures
from shared.service import cancel_tasks, every


class ConnectionFailure(Exception):
    """What PyMongo raises when a cancellation reaches a connection."""


async def store_call() -> None:
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        raise ConnectionFailure("connection closed") from None


async def test_every_stops_when_its_cancellation_was_turned_into_an_error() -> None:
    calls = 0

    async def action() -> None:
        nonlocal calls
        calls += 1
        await store_call()

    registry = CollectorRegistry()
    failures = Failures(registry=registry, unhealthy_after=60)
    task = asyncio.create_task(every(0.01, action, name="calendar", failures=failures))
    await asyncio.sleep(0.1)  # inside the action's store call
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=2)
    assert calls == 1
    # a stop, not a failure
    assert registry.get_sample_value("parity_sweep_failures_total", {"sweep": "calendar"}) is None


async def test_every_tells_each_run_to_the_failures() -> None:
    """Two runs fail, then they succeed: counted twice, and healthy again after."""
    registry = CollectorRegistry()
    failures = Failures(registry=registry, unhealthy_after=0.0)
    outcomes = [ConnectionFailure("store away"), ConnectionFailure("store away")]
    runs: list[bool] = []
    four_runs = asyncio.Event()

    async def action() -> None:
        runs.append(await failures.sweeps_healthy())
        if len(runs) == 4:
            four_runs.set()
        if outcomes:
            raise outcomes.pop(0)

    task = asyncio.create_task(every(0.01, action, name="sweep", failures=failures))
    try:
        await asyncio.wait_for(four_runs.wait(), timeout=2)
    finally:
        await cancel_tasks([task])
    # healthy before the first failure, failing for longer than 0 s on the second and third
    # runs, healthy once a run succeeded
    assert runs[:4] == [True, False, False, True]
    assert registry.get_sample_value("parity_sweep_failures_total", {"sweep": "sweep"}) == 2


async def test_a_task_that_goes_on_after_its_cancellation_is_cancelled_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service, "CANCEL_AGAIN_AFTER_SECONDS", 0.1)
    swallowed = 0

    async def loop_that_swallows_once() -> None:
        nonlocal swallowed
        while True:
            try:
                await store_call()
            except ConnectionFailure:
                swallowed += 1
                if swallowed > 1:
                    raise

    tasks = [asyncio.create_task(loop_that_swallows_once())]
    await asyncio.sleep(0.05)
    with pytest.raises(ConnectionFailure):  # its last error is raised, as before
        await asyncio.wait_for(cancel_tasks(tasks), timeout=5)
    assert swallowed == 2


async def test_a_task_that_never_stops_is_named_and_left_after_the_grace(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(service, "CANCEL_AGAIN_AFTER_SECONDS", 0.05)
    monkeypatch.setattr(service, "CANCEL_GRACE_SECONDS", 0.3)

    released = asyncio.Event()

    async def stubborn() -> None:
        while not released.is_set():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn(), name="stubborn")
    tasks = [task]
    await asyncio.sleep(0.01)
    await asyncio.wait_for(cancel_tasks(tasks), timeout=5)
    assert tasks == []
    assert "tasks still running after being cancelled: ['stubborn']" in caplog.text
    assert any(r.levelno == logging.ERROR for r in caplog.records)
    released.set()  # the test ends it
    task.cancel()
    await asyncio.wait_for(task, timeout=2)
