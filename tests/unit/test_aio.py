"""shared.aio.gather_all: results in order, and no awaitable left running behind a failure."""

from __future__ import annotations

import asyncio

import pytest

from shared.aio import gather_all


async def test_results_come_in_the_order_given() -> None:
    async def after(seconds: float, value: str) -> str:
        await asyncio.sleep(seconds)
        return value

    assert await gather_all(after(0.02, "slow"), after(0, "fast")) == ["slow", "fast"]


async def test_a_failure_is_raised_once_every_other_awaitable_finished() -> None:
    finished: list[str] = []

    async def fails() -> None:
        raise ValueError("refused")

    async def writes() -> None:
        await asyncio.sleep(0.05)
        finished.append("write")

    with pytest.raises(ValueError, match="refused"):
        await gather_all(fails(), writes())
    assert finished == ["write"]
