"""A subscriber whose batch fails waits before the batch comes again, and one that keeps
failing makes the service unhealthy.

Every subscriber acknowledges with ``AckPolicy.NACK_ON_ERROR``: a batch whose handler raises
is rewound and handed over again, half a second later (measured on the local broker by
tests/integration/test_failing_batches.py with the pause taken out: 0.50 to 0.52 s).
For a failure that lasts (a bug that one record meets, a store that refuses a write, a topic
that cannot be written) that was two tracebacks a second for as long as it lasted, and
nothing but the 15 minutes of ``ParityConsumerStuck`` said so. Now :meth:`Failures.watch`
around a handler:

- lets a failure through only after a pause that doubles with each failure in a row (from
  ``FIRST_PAUSE_SECONDS`` to ``LONGEST_PAUSE_SECONDS``); the batch then comes again as
  before, so nothing is skipped;
- counts it in ``parity_batch_failures_total{subscriber}``;
- forgets the subscriber's failures once a batch of it succeeds.

:meth:`Failures.healthy` (the ``consumers`` check of ``/health``) is false while a
subscriber has failed every batch for longer than ``unhealthy_after`` seconds.

The sweeps (``shared.service.every``: future-dated events, unpublished changes, overdue
recommendations, the notification calendar) run again at their interval after a failure,
and used to be seen only in the log. :meth:`Failures.sweep_ran` counts their failures in
``parity_sweep_failures_total{sweep}``, and :meth:`Failures.sweeps_healthy` (the ``sweeps``
check) is false while one has failed every run for longer than ``unhealthy_after``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter

from shared.backoff import doubling_wait

log = logging.getLogger("parity")

FIRST_PAUSE_SECONDS = 0.1
LONGEST_PAUSE_SECONDS = 5.0


def pause_after(failures_in_a_row: int) -> float:
    """How long a subscriber waits after its ``failures_in_a_row``-th failure (from 1)."""
    return doubling_wait(
        failures_in_a_row, first=FIRST_PAUSE_SECONDS, longest=LONGEST_PAUSE_SECONDS
    )


@dataclass
class Failing:
    """A subscriber failing since ``since`` (monotonic seconds), ``count`` times in a row."""

    since: float
    count: int


class Failures:
    """The failures in a row of each subscriber of one service."""

    def __init__(
        self,
        *,
        registry: CollectorRegistry,
        unhealthy_after: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._unhealthy_after = unhealthy_after
        self._monotonic = monotonic
        self._sleep = sleep
        self._failing: dict[str, Failing] = {}  # by subscriber
        self._sweeps_failing: dict[str, Failing] = {}  # by sweep
        self._counter = Counter(
            "parity_batch_failures",
            "Batches whose handler failed (the batch comes again after a pause)",
            ["subscriber"],
            registry=registry,
        )
        self._sweep_counter = Counter(
            "parity_sweep_failures",
            "Runs of a sweep that failed (it runs again at its interval)",
            ["sweep"],
            registry=registry,
        )

    @asynccontextmanager
    async def watch(self, subscriber: str) -> AsyncIterator[None]:
        """Around one batch of ``subscriber``: see the module's docstring."""
        try:
            yield
        except Exception as error:
            failing = self._failed(self._failing, subscriber)
            self._counter.labels(subscriber=subscriber).inc()
            pause = pause_after(failing.count)
            # the error's type only: FastStream logs the error itself, and a message may
            # quote a record's content
            log.warning(
                "%s: batch failed (%d in a row, for %.1f s): %s; it comes again in %.1f s",
                subscriber,
                failing.count,
                self._monotonic() - failing.since,
                type(error).__name__,
                pause,
            )
            await self._sleep(pause)
            raise
        self._failing.pop(subscriber, None)

    def sweep_ran(self, sweep: str, *, failed: bool) -> None:
        """After one run of ``sweep``, which logged its own failure: see the module's
        docstring."""
        if failed:
            self._failed(self._sweeps_failing, sweep)
            self._sweep_counter.labels(sweep=sweep).inc()
        else:
            self._sweeps_failing.pop(sweep, None)

    async def healthy(self) -> bool:
        """No subscriber has failed every batch for longer than ``unhealthy_after`` seconds."""
        return self._none_failing_too_long(self._failing)

    async def sweeps_healthy(self) -> bool:
        """No sweep has failed every run for longer than ``unhealthy_after`` seconds."""
        return self._none_failing_too_long(self._sweeps_failing)

    def health_checks(self) -> dict[str, Callable[[], Awaitable[bool]]]:
        """The checks of ``/health`` that these failures answer."""
        return {"consumers": self.healthy, "sweeps": self.sweeps_healthy}

    def _failed(self, failing: dict[str, Failing], name: str) -> Failing:
        entry = failing.setdefault(name, Failing(self._monotonic(), 0))
        entry.count += 1
        return entry

    def _none_failing_too_long(self, failing: dict[str, Failing]) -> bool:
        now = self._monotonic()
        return all(now - f.since <= self._unhealthy_after for f in failing.values())
