"""The notifications service exports the consumer lag of each of its groups, as the other
services do: the lag alerts cover it too."""

from __future__ import annotations

import asyncio

from services.notifications.app import build, consumed_topics
from shared.clock import ManualClock
from shared.lag import LAG_METRIC
from shared.metrics import make_metrics
from tests.integration.kafka_tools import eventually
from tests.integration.notifications.wiring import Service


async def test_the_consumer_lag_of_each_group_is_exported(
    service: Service, clock: ManualClock
) -> None:
    settings = service.settings.model_copy(update={"consumer_lag_interval_seconds": 0.5})
    metrics = make_metrics("notifications")

    def lags() -> dict[str, float | None]:
        return {
            topic: metrics.registry.get_sample_value(
                LAG_METRIC, {"group": f"{settings.group_id}.{topic}", "topic": topic}
            )
            for topic in consumed_topics(settings)
        }

    async with build(settings, clock=clock, metrics=metrics):
        seen = await eventually(
            lambda: asyncio.sleep(0, lags()), lambda found: None not in found.values()
        )
    assert len(seen) == 4
    assert all(value is not None and value >= 0 for value in seen.values())
