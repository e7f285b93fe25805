"""A notification about a unit reaches the subscribers of the subtree it is in, also when
its record was read before the unit change that placed it there (the indicator feed and
the units topic are read by different consumers): the handler waits for the tree then."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from pymongo import AsyncMongoClient

from services.notifications.domain.subscriptions import Subscription
from services.notifications.handlers import apply_indicator_updates
from services.notifications.store import NotificationsStore
from shared.clock import VIETNAM, ManualClock
from shared.store import Document
from tests.facts import unit_at
from tests.integration.notifications.test_data_quality import collaborators
from tests.unit.test_notification_rules import TARGET, share, status


async def test_a_unit_the_tree_does_not_know_yet_reaches_its_subtree_subscribers(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    store = NotificationsStore(mongo[database_name])
    await store.put_subscription(
        Subscription(id="province", name="Sở Nội vụ", email="p@example.vn", unit_id="P")
    )
    deps = collaborators(store, ManualClock(datetime(2026, 11, 21, 9, tzinfo=VIETNAM)))
    deps.organisation.apply(unit_at("P", [], "province"))
    waits: list[str] = []

    async def the_feed_reads_the_new_unit() -> None:
        waits.append("caught up")
        deps.organisation.apply(unit_at("A9", ["P"], "agency"))

    deps = replace(deps, tree_caught_up=the_feed_reads_the_new_unit)
    below = status("A9", 1, "agency", female_key_leader_division_share=share(1, 2, target=TARGET))
    below = below.model_copy(update={"parent_id": "P"})

    admission = await apply_indicator_updates([below], deps=deps)

    assert [c.unit_id for c in admission.raised] == ["A9"]
    assert waits == ["caught up"]
    deliveries = [d async for d in store.deliveries.find()]
    assert sorted((d["channel"], d["subscription_id"]) for d in deliveries) == [
        ("email", "province"),
        ("event", None),
    ]

    # where the organisation already places the unit as its record does, nothing waits
    again = below.model_copy(update={"version": 2})
    await apply_indicator_updates([again], deps=deps)
    assert waits == ["caught up"]
