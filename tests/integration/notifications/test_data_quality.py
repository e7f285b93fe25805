"""The data-quality anomalies against the real FerretDB, through the handlers (no Kafka): each
anomaly counted once, in the metric as in the summaries, whenever it lands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from services.notifications.documents import Document
from services.notifications.domain.policy import QuietMark
from services.notifications.handlers import (
    Collaborators,
    RuleSettings,
    check_calendar,
    record_person_anomalies,
)
from services.notifications.metrics import make_notification_metrics
from services.notifications.store import NotificationsStore
from shared.clock import VIETNAM, ManualClock
from shared.internal import PersonChanged
from shared.organisation import Organisation
from tests.integration.notifications.wiring import person_changed

LATE_EVENING = datetime(2026, 11, 21, 23, 59, 59, tzinfo=VIETNAM)
JUST_AFTER_MIDNIGHT = datetime(2026, 11, 22, 0, 0, 1, tzinfo=VIETNAM)


def collaborators(store: NotificationsStore, clock: ManualClock) -> Collaborators:
    return Collaborators(
        store=store,
        organisation=Organisation(),
        plans=(),
        clock=clock,
        timer=clock,
        metrics=make_notification_metrics(CollectorRegistry()),
        rules=RuleSettings(
            language="en", quiet_period=timedelta(hours=1), lead_times_days=(30, 7, 1)
        ),
        wake_outbox=lambda: None,
        tree_caught_up=nothing_to_read,
    )


async def nothing_to_read() -> None:
    """No units topic here: the people's anomalies do not wait for the tree."""


def person(
    person_id: str, revision: int, home: str | None, anomalies: list[tuple[str, str]]
) -> PersonChanged:
    data: dict[str, Any] = person_changed(person_id, revision, "X", anomalies).data
    return PersonChanged.model_validate({**data, "home_unit_id": home})


def counted(deps: Collaborators) -> float:
    """parity_notifications_unattributed_anomalies_total."""
    (metric,) = deps.metrics.unattributed_anomalies.collect()
    return next(s.value for s in metric.samples if s.name.endswith("_total"))


async def summaries(store: NotificationsStore, unit_id: str) -> list[Document]:
    cursor = store.notifications.find({"rule": "data_quality", "unit_id": unit_id})
    return sorted([d async for d in cursor], key=lambda d: d["details"]["total"], reverse=True)


async def test_an_unattributed_anomaly_is_counted_once_in_the_metric(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    deps = collaborators(NotificationsStore(mongo[database_name]), ManualClock(LATE_EVENING))
    homeless = person("P-1", 1, None, [("position_not_held", "e1"), ("registered_twice", "e2")])
    await record_person_anomalies([homeless, homeless], deps=deps)  # twice in one batch
    await record_person_anomalies([homeless], deps=deps)  # a redelivery
    later = person("P-1", 2, None, [("position_not_held", "e1"), ("registered_twice", "e2")])
    await record_person_anomalies([later], deps=deps)  # a later revision, the same anomalies
    assert counted(deps) == 2
    third = person("P-1", 3, None, [("position_not_held", "e1"), ("event_after_leaving", "e3")])
    await record_person_anomalies([third], deps=deps)  # one new among them
    assert counted(deps) == 3


class LateLanding(NotificationsStore):
    """A store in which an anomaly of the day being summarised lands while its summary is
    being raised: after the count was taken, before the anomalies are marked summarised."""

    late: Callable[[], Awaitable[None]] | None = None

    async def record(
        self,
        notifications: Sequence[Document],
        deliveries: Sequence[Document],
        marks: Mapping[str, QuietMark],
        *args: Any,
    ) -> None:
        if self.late is not None and any(n["rule"] == "data_quality" for n in notifications):
            landing, self.late = self.late, None
            await landing()
        await super().record(notifications, deliveries, marks, *args)


async def test_an_anomaly_landing_after_the_count_is_summarised_later_not_lost(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    store = LateLanding(mongo[database_name])
    clock = ManualClock(LATE_EVENING)
    deps = collaborators(store, clock)
    await record_person_anomalies(
        [person("P-1", 1, "D1", [("position_not_held", "e1"), ("position_not_held", "e2")])],
        deps=deps,
    )
    # another one seen at 23:59:59 (its day fixed then), whose insert lands just after midnight
    # while the summary of that day is being raised
    lagging = collaborators(NotificationsStore(mongo[database_name]), ManualClock(LATE_EVENING))
    store.late = lambda: record_person_anomalies(
        [person("P-2", 1, "D1", [("registered_twice", "e3")])], deps=lagging
    )
    clock.set(JUST_AFTER_MIDNIGHT)
    await check_calendar(deps=deps)
    first = await summaries(store, "D1")
    assert [d["details"]["counts"] for d in first] == [{"position_not_held": 2}]
    await check_calendar(deps=deps)  # the next tick: the late one comes in a summary of its own
    second = await summaries(store, "D1")
    assert [d["details"]["counts"] for d in second] == [
        {"position_not_held": 2},
        {"registered_twice": 1},
    ]
    assert {d["details"]["day"] for d in second} == {"2026-11-21"}
    assert len({d["_id"] for d in second}) == 2
    await check_calendar(deps=deps)  # nothing new: nothing more
    assert len(await summaries(store, "D1")) == 2
    # one more dated that day lands later still (a consumer that lagged): a third summary
    await record_person_anomalies(
        [person("P-3", 1, "D1", [("event_after_leaving", "e4")])], deps=lagging
    )
    await check_calendar(deps=deps)
    third = await summaries(store, "D1")
    assert [d["details"]["total"] for d in third] == [2, 1, 1]
    assert await store.anomalies.count_documents({"summarised": False}) == 0
