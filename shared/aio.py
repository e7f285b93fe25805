"""Awaiting several things at once, never leaving one running behind a failure."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def gather_all(*awaitables: Awaitable[Any]) -> list[Any]:
    """Their results, in order. Unlike ``asyncio.gather``, every one has finished before
    the first failure is raised: none is left running unawaited (a write in flight, say)."""
    outcomes = await asyncio.gather(*awaitables, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return outcomes
