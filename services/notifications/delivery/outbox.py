"""The outbox worker: delivers what the handlers wrote to ``deliveries``, with retries.

A delivery is pending until a channel accepts it (delivered) or it fails for good (a
permanent refusal, or ``max_attempts`` tries; the Kafka event is never given up:
``domain.policy.channel_policy``). Each attempt first takes a lease on the document (a
conditional update), so two workers never try one delivery at once, and a worker that dies
mid-attempt leaves a lease that simply runs out: the delivery is tried again, nothing is
lost. Every attempt is appended to the delivery's log with its outcome and reason. Between
failures the wait grows exponentially up to a cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Protocol

from services.notifications.documents import NEVER, Document, instant, parse_instant
from services.notifications.domain.policy import RetryPolicy, after_attempt, channel_policy
from services.notifications.metrics import NotificationMetrics
from services.notifications.store import NotificationsStore
from shared.clock import Clock
from shared.envelope import one_line

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """A channel could not deliver; ``permanent`` when trying again cannot help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(one_line(reason))
        self.permanent = permanent


class Channel(Protocol):
    async def deliver(self, delivery: Document) -> None:
        """Deliver or raise DeliveryFailed."""
        ...


class OutboxWorker:
    def __init__(
        self,
        *,
        store: NotificationsStore,
        channels: Mapping[str, Channel],
        timer: Clock,
        policy: RetryPolicy,
        lease: timedelta,
        batch_size: int,
        poll_interval: float,
        metrics: NotificationMetrics,
    ) -> None:
        self._store = store
        self._channels = channels
        self._timer = timer
        self._policy = policy
        self._lease = lease
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._metrics = metrics
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """New deliveries are in the outbox: look now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the attempts under way, start no new pass (:meth:`run` then returns)."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            try:
                busy = await self.run_once() >= self._batch_size
            except Exception:
                log.exception("outbox pass failed; trying again in %.1f s", self._poll_interval)
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval)
                self._wake.clear()

    async def run_once(self) -> int:
        """One pass over the deliveries due now; returns how many were due."""
        now = self._timer.now()
        due = await self._store.due_deliveries(now, self._batch_size)
        claimed: list[tuple[Document, str]] = []
        for delivery in due:
            lease = await self._store.claim(delivery, now + self._lease)
            if lease is not None:
                claimed.append((delivery, lease))
        await asyncio.gather(*(self._attempt(d, lease) for d, lease in claimed))
        self._metrics.outbox_depth.set(await self._store.outbox_depth())
        return len(due)

    async def _attempt(self, delivery: Document, lease: str) -> None:
        channel_name = delivery["channel"]
        permanent, reason = False, None
        try:
            channel = self._channels.get(channel_name)
            if channel is None:
                raise DeliveryFailed(f"no channel {channel_name!r}", permanent=True)
            await channel.deliver(delivery)
        except DeliveryFailed as failure:
            permanent, reason = failure.permanent, str(failure)
        except Exception as error:  # a bug in a channel: recorded and retried, not lost
            log.exception("delivery %s failed unexpectedly", delivery["_id"])
            reason = one_line(f"unexpected: {error!r}")
        attempts = int(delivery["attempts"]) + 1
        outcome, wait = after_attempt(
            succeeded=reason is None,
            permanent=permanent,
            attempts=attempts,
            policy=channel_policy(self._policy, channel_name),
        )
        finished = self._timer.now()
        changes: Document = {"lease_until": NEVER, "last_error": reason}
        if outcome == "delivered":
            changes.update(status="delivered", delivered_at=instant(finished))
        elif outcome == "failed":
            changes.update(status="failed")
        else:
            changes.update(next_attempt_at=instant(finished + (wait or timedelta())))
        entry = {"at": instant(finished), "attempt": attempts, "outcome": outcome, "reason": reason}
        if not await self._store.finish_attempt(delivery["_id"], lease, changes, entry):
            log.warning("delivery %s: lease lost during the attempt", delivery["_id"])
        self._metrics.deliveries.labels(channel=channel_name, outcome=outcome).inc()
        if outcome == "delivered":
            latency = (finished - parse_instant(delivery["created_at"])).total_seconds()
            self._metrics.delivery_latency.labels(channel=channel_name).observe(max(0.0, latency))
        if outcome == "failed":
            log.warning("delivery %s failed for good: %s", delivery["_id"], reason)
