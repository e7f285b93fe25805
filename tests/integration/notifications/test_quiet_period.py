"""The quiet period against the real FerretDB, through the handlers (no Kafka): a flapping
indicator stays quiet, and a breach or recovery it held back comes out once the quiet period
is over if the indicator is still in that state, so that subscribers' last word matches it."""

from __future__ import annotations

from datetime import timedelta

from pymongo import AsyncMongoClient

from services.notifications.documents import Document
from services.notifications.handlers import (
    Collaborators,
    apply_indicator_updates,
    check_calendar,
)
from services.notifications.store import NotificationsStore
from shared.clock import VIETNAM, ManualClock
from tests.integration.conftest import NOW
from tests.integration.notifications.test_data_quality import collaborators
from tests.unit.test_notification_rules import TARGET, share, status


async def women_in_key_roles(deps: Collaborators, *steps: tuple[int, int]) -> None:
    """(version, 1 or 0 divisions with a woman in a key role), a minute apart."""
    for version, women in steps:
        update = status(
            "D1", version, female_key_leader_division_share=share(women, 1, target=TARGET)
        )
        await apply_indicator_updates([update], deps=deps)
        assert isinstance(deps.clock, ManualClock)
        deps.clock.advance(timedelta(minutes=1))


async def raised(store: NotificationsStore) -> list[tuple[str, int]]:
    """The target notifications of D1 in the order raised (the key-leader rule fires too)."""
    query = {"unit_id": "D1", "rule": {"$in": ["target_breached", "target_recovered"]}}
    cursor = store.notifications.find(query).sort("raised_at", 1)
    return [(d["rule"], d["details"]["version"]) async for d in cursor]


async def test_a_breach_held_by_the_quiet_period_comes_out_when_it_ends_if_still_below(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    clock = ManualClock(NOW)
    store = NotificationsStore(mongo[database_name])
    deps = collaborators(store, clock)  # a quiet period of one hour
    await women_in_key_roles(deps, (1, 1), (2, 0), (3, 1), (4, 0))  # the last breach is quiet
    assert await raised(store) == [("target_breached", 2), ("target_recovered", 3)]
    clock.advance(timedelta(minutes=30))
    await check_calendar(deps=deps)  # still quiet
    assert len(await raised(store)) == 2
    clock.advance(timedelta(minutes=30))  # the breach's quiet period is over; still below
    await check_calendar(deps=deps)
    await check_calendar(deps=deps)  # once
    assert await raised(store) == [
        ("target_breached", 2),
        ("target_recovered", 3),
        ("target_breached", 4),
    ]
    (late,) = [d async for d in store.notifications.find({"details.version": 4})]
    assert late["raised_at"] == clock.now().astimezone(VIETNAM).isoformat()  # when it came out


async def test_a_held_breach_that_flapped_back_comes_out_as_nothing(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    clock = ManualClock(NOW)
    store = NotificationsStore(mongo[database_name])
    deps = collaborators(store, clock)
    # breach, recovery, then it flaps: breach, recovery, breach, recovery (all quiet)
    await women_in_key_roles(deps, (1, 1), (2, 0), (3, 1), (4, 0), (5, 1), (6, 0), (7, 1))
    clock.advance(timedelta(hours=2))
    await check_calendar(deps=deps)
    # subscribers' last word ("recovered") is the indicator's state: nothing more to say
    assert await raised(store) == [("target_breached", 2), ("target_recovered", 3)]
    await women_in_key_roles(deps, (8, 0))  # past the quiet period: a breach at once
    assert (await raised(store))[-1] == ("target_breached", 8)
