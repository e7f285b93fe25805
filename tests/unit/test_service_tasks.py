"""Background tasks stop when the service stops (shared/service.py), even when something
inside them turns a cancellation into another error, as PyMongo does with one that reaches a
connection; before, such a task went on and the shutdown waited for it for ever."""

from __future__ import annotations

import asyncio
import logging

import pytest

from shared import service
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

    task = asyncio.create_task(every(0.01, action, name="calendar"))
    await asyncio.sleep(0.1)  # inside the action's store call
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=2)
    assert calls == 1


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
