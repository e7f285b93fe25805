"""The notifications service on a seeded province, behind the real personnel, inspections and
indicators services (tests/integration/province_pipeline.py), on the real Kafka and FerretDB.

The province is generated with its clock on 1 November 2026 (09:00, Asia/Ho_Chi_Minh), so
the whole pipeline and the notifications service share that day. The generator roots the
province at ``U-0001``, which is the scope of the shipped ``lang-son-dolisa-2022`` plan;
``national-2282`` has no scope and covers the organisation's roots; ``kien-giang-2016`` is
scoped at ``KG-0001``, which the province does not have, so it covers nothing.

Every expectation is computed here, from the plan files (read as YAML), the reference
recomputation of the organisation (tests/reference.py) and the records of the feeds
themselves, without the service's rule code:

- ``deadline_approaching``: one reminder per (plan, deadline, due date, lead time, covered
  unit), the covered units being, as the service's README defines them, the plan's scope
  unit with every open ``agency`` and ``public_service_unit`` under it, or every open root
  for a plan without scope; the lead time due on a day is the shortest one whose reminder
  date is not after it (30 days on 1 November, 1 day on 14 November: the 7-day reminder of
  a service that was not looking on 8 November is not sent late);
- the indicator rules, by brute force over ``gender-equality.indicators.v1``: per unit in
  version order, ``target_breached`` where a targeted indicator is below its target and was
  not below in the previous record (or there was none), ``target_recovered`` the reverse,
  and on divisions ``last_female_key_leader_left`` / ``planning_floor_breached`` where the
  figures go from 1/1 to 0/1. The clock does not move while the feed is read, so the quiet
  period (24 h) keeps the first occurrence of each (rule, unit, indicator) and no other;
- ``recommendation_overdue``, over the inspection status feed: one per (unit,
  recommendation) ever seen overdue.

A second notifications service reading the same feeds into an empty database with the same
clock raises exactly the same notification ids (they are stable), and every notification
is published once on the notifications topic.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest
import yaml
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from services.notifications.app import build as build_notifications
from services.notifications.settings import NotificationsSettings
from shared.clock import VIETNAM, ManualClock
from shared.contract import INDICATORS_TOPIC
from shared.internal import INSPECTION_STATUS_TOPIC
from shared.kafka import groups_per_topic
from shared.settings import KafkaSettings
from shared.store import Document
from tests import reference
from tests.generator import Province, ProvinceShape, generate_province
from tests.integration.kafka_tools import eventually, read_to_end, wait_consumed
from tests.integration.province_pipeline import (
    PLANS,
    Pipeline,
    produce_province,
    running_pipeline,
)

NOVEMBER_1 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=VIETNAM)
NOVEMBER_14 = dt.datetime(2026, 11, 14, 9, 0, tzinfo=VIETNAM)
LEAD_TIMES_DAYS = (30, 7, 1)
# Two agencies over one year (about 850 records, 23 units open, 5 closed by the 2025
# reorganisation): small enough to keep the run short, large enough for every rule.
PROVINCE: Province = generate_province(7, ProvinceShape(agencies=2, years=1), now=NOVEMBER_1)
REPORTING_LEVELS = frozenset({"agency", "public_service_unit"})
KEY_LEADER = "female_key_leader_division_share"
FLOOR = "units_meeting_planning_floor_share"
STATE_RULES = frozenset({"target_breached", "target_recovered"})  # what the quiet period holds
INDICATOR_RULES = frozenset(
    {
        "target_breached",
        "target_recovered",
        "last_female_key_leader_left",
        "planning_floor_breached",
    }
)

Reminder = tuple[str, str, str, int, str]  # plan, deadline, due date, lead days, unit
Raised = tuple[str, str, str, int]  # rule, unit, indicator, version


@pytest.fixture
async def pipeline(
    fresh_topics: None,
    kafka_settings: KafkaSettings,
    mongodb_url: str,
    database_name: str,
    clock: ManualClock,
    mongo: AsyncMongoClient[Document],
) -> AsyncIterator[Pipeline]:
    clock.set(PROVINCE.now)
    async with running_pipeline(kafka_settings, mongodb_url, database_name, clock, mongo) as run:
        yield run


# --- what should be raised, computed from the plan files, the organisation and the feeds ---


def plan_files() -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text(encoding="utf-8")) for path in PLANS.glob("*.yaml")]


def covered_units(plan: dict[str, Any], world: reference.World) -> set[str]:
    open_units = {u for u, state in world.units.items() if not state.closed}
    scope = plan.get("scope_unit_id")
    if scope is None:
        return {u for u in open_units if world.units[u].parent_id is None}
    if scope not in open_units:
        return set()
    below = {
        u
        for u in open_units
        if world.units[u].level in REPORTING_LEVELS and scope in world.chain(u)[1:]
    }
    return {scope} | below


def due_dates(deadline: dict[str, Any], after: dt.date, until: dt.date) -> list[dt.date]:
    if "date" in deadline:
        candidates = [deadline["date"]]
    else:
        candidates = [
            dt.date(year, deadline["month"], deadline["day"])
            for year in range(after.year, until.year + 1)
        ]
    return [day for day in candidates if after < day <= until]


def expected_reminders(world: reference.World, today: dt.date) -> set[Reminder]:
    expected: set[Reminder] = set()
    for plan in plan_files():
        units = covered_units(plan, world)
        for deadline in plan.get("deadlines", []):
            horizon = today + dt.timedelta(days=max(LEAD_TIMES_DAYS))
            for due in due_dates(deadline, today, horizon):
                lead = min(d for d in LEAD_TIMES_DAYS if due - dt.timedelta(days=d) <= today)
                expected |= {(plan["id"], deadline["id"], due.isoformat(), lead, u) for u in units}
    return expected


def by_unit_in_order(records: Iterable[Any], order: str) -> dict[str, list[dict[str, Any]]]:
    """Each unit's statuses from a feed, by ``order`` (version, revision), once each."""
    statuses: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for record in records:
        data = json.loads(record.value)["data"]
        statuses[data["unit_id"]].setdefault(data[order], data)
    return {unit: [s[n] for n in sorted(s)] for unit, s in statuses.items()}


def figures(status: dict[str, Any], indicator: str) -> tuple[int, int | None] | None:
    value = status["indicators"].get(indicator)
    return None if value is None else (value["numerator"], value["denominator"])


def expected_indicator_notifications(
    feed: dict[str, list[dict[str, Any]]], *, quiet_period_over: bool = False
) -> set[Raised]:
    """Brute force over the feed, all of it read within one quiet period: the first
    occurrence of each (rule, unit, indicator). Once the quiet period is over, also the
    breach or recovery it held back last for a (unit, indicator), if it differs from what
    was last raised for it and the unit's last status is still in that state."""
    first: dict[tuple[str, str, str], int] = {}
    held: dict[tuple[str, str], tuple[str, int] | None] = {}
    told: dict[tuple[str, str], str] = {}
    for unit_id, statuses in feed.items():
        previous: dict[str, Any] | None = None
        for status in statuses:
            hits: list[tuple[str, str]] = []
            for name, value in status["indicators"].items() if status["active"] else ():
                before = previous["indicators"].get(name) if previous else None
                was = before["meets_target"] if before else None
                if value["target"] is not None and value["meets_target"] is False:
                    hits += [("target_breached", name)] if was is not False else []
                if value["target"] is not None and value["meets_target"] is True:
                    hits += [("target_recovered", name)] if was is False else []
            if status["active"] and previous and status["level"] == "division":
                for rule, name in (("last_female_key_leader_left", KEY_LEADER),
                                   ("planning_floor_breached", FLOOR)):  # fmt: skip
                    if figures(previous, name) == (1, 1) and figures(status, name) == (0, 1):
                        hits.append((rule, name))
            for rule, name in hits:
                state = (unit_id, name)
                if (rule, unit_id, name) not in first:
                    first[(rule, unit_id, name)] = status["version"]
                    if rule in STATE_RULES:
                        told[state], held[state] = rule, None
                elif rule in STATE_RULES:  # suppressed: held back unless it says what was told
                    held[state] = None if told.get(state) == rule else (rule, status["version"])
            previous = status
    raised = {(rule, unit, name, version) for (rule, unit, name), version in first.items()}
    if quiet_period_over:
        for (unit_id, name), last_held in held.items():
            if last_held is None or not feed[unit_id][-1]["active"]:
                continue
            rule, version = last_held
            meets = feed[unit_id][-1]["indicators"][name]["meets_target"]
            if meets is (rule == "target_recovered"):
                raised.add((rule, unit_id, name, version))
    return raised


def expected_overdue(feed: dict[str, list[dict[str, Any]]]) -> set[tuple[str, str]]:
    return {
        (unit_id, recommendation["recommendation_id"])
        for unit_id, statuses in feed.items()
        for status in statuses
        for recommendation in status["open_recommendations"]
        if recommendation["overdue"]
    }


# --- what was raised -----------------------------------------------------------------------


async def logged(db: AsyncDatabase[Document], rule: str | None = None) -> list[Document]:
    query = {} if rule is None else {"rule": rule}
    return [d async for d in db["notifications"].find(query)]


def reminders_of(docs: Iterable[Document]) -> list[Reminder]:
    return [
        (
            d["details"]["plan"],
            d["details"]["deadline"],
            d["details"]["due"],
            d["details"]["lead_days"],
            d["unit_id"],
        )
        for d in docs
    ]


def raised_of(docs: Iterable[Document]) -> list[Raised]:
    return [
        (d["rule"], d["unit_id"], d["details"]["indicator"], d["details"]["version"]) for d in docs
    ]


async def all_delivered(db: AsyncDatabase[Document]) -> bool:
    notifications = await db["notifications"].count_documents({})
    delivered = await db["deliveries"].count_documents({"status": "delivered"})
    return notifications > 0 and delivered == await db["deliveries"].count_documents({})


def notifications_settings(
    kafka: KafkaSettings, mongodb_url: str, database: str
) -> NotificationsSettings:
    run = uuid.uuid4().hex[:8]
    return NotificationsSettings(
        mongodb_url=mongodb_url,
        mongodb_database=database,
        group_id=f"test-notifications-{run}",
        kafka=kafka,
        notifications_topic=f"test-{run}.gender-equality.notifications.v1",
        lead_times_days=list(LEAD_TIMES_DAYS),
        check_interval_seconds=0.2,
        outbox_poll_interval_seconds=0.05,
        plans_dir=PLANS,
    )


async def consumed(settings: NotificationsSettings) -> None:
    await wait_consumed(
        settings.kafka,
        groups_per_topic(
            settings.group_id, (settings.indicators_topic, settings.inspection_status_topic)
        ),
        timeout=240,
    )


async def test_the_province_raises_its_reminders_and_its_feed_fires_the_rules_once(
    pipeline: Pipeline,
    producer: AIOKafkaProducer,
    kafka_settings: KafkaSettings,
    mongodb_url: str,
    database_name: str,
    mongo: AsyncMongoClient[Document],
) -> None:
    await produce_province(producer, PROVINCE)
    await pipeline.settle()
    world = reference.replay(PROVINCE.events(), PROVINCE.now)
    on_first = expected_reminders(world, NOVEMBER_1.date())
    on_fourteenth = expected_reminders(world, NOVEMBER_14.date())
    indicator_feed = by_unit_in_order(
        await read_to_end(kafka_settings, INDICATORS_TOPIC), "version"
    )
    inspection_feed = by_unit_in_order(
        await read_to_end(kafka_settings, INSPECTION_STATUS_TOPIC), "revision"
    )
    expected_raised = expected_indicator_notifications(indicator_feed)
    expected_released = expected_indicator_notifications(indicator_feed, quiet_period_over=True)
    overdue = expected_overdue(inspection_feed)

    settings = notifications_settings(kafka_settings, mongodb_url, f"{database_name}_notify")
    replay = notifications_settings(kafka_settings, mongodb_url, f"{database_name}_replay")
    db, replay_db = mongo[settings.mongodb_database], mongo[replay.mongodb_database]
    try:
        clock = ManualClock(NOVEMBER_1)
        async with build_notifications(settings, clock=clock):
            await consumed(settings)
            first = await eventually(
                lambda: logged(db, "deadline_approaching"),
                lambda docs: len(docs) >= len(on_first),
            )
            await eventually(lambda: all_delivered(db), bool)
            first_logged = await logged(db)
            first_ids = {d["_id"] for d in first_logged}
            clock.set(NOVEMBER_14)  # the quiet periods are over
            late = await eventually(
                lambda: logged(db, "deadline_approaching"),
                lambda docs: len(docs) >= len(on_first) + len(on_fourteenth),
            )
            await eventually(
                lambda: logged(db),
                lambda docs: (
                    len([d for d in docs if d["rule"] in INDICATOR_RULES]) >= len(expected_released)
                ),
            )
            await eventually(lambda: all_delivered(db), bool)
        everything = await logged(db)
        published = Counter(
            json.loads(r.value)["id"]
            for r in await read_to_end(kafka_settings, settings.notifications_topic)
        )
        async with build_notifications(replay, clock=ManualClock(NOVEMBER_1)):
            await consumed(replay)
            await eventually(
                lambda: logged(replay_db, "deadline_approaching"),
                lambda docs: len(docs) >= len(on_first),
            )
            replayed_ids = {d["_id"] for d in await logged(replay_db)}
    finally:
        for name in (settings.mongodb_database, replay.mongodb_database):
            await mongo.drop_database(name)

    # 1 November: the 30-day reminder of 15 November, once per plan and covered unit.
    assert sorted(reminders_of(first)) == sorted(on_first)
    assert {(d["severity"], d["details"]["days_left"]) for d in first} == {("info", 14)}
    assert {d["unit_id"] for d in first} == {
        u for u, s in world.units.items() if not s.closed and s.level != "division"
    }  # the open province, agencies and public service units; no division, no closed unit
    # 14 November: the 1-day reminder, not the 7-day one that fell due while it was not read.
    assert sorted(reminders_of(late)) == sorted(on_first | on_fourteenth)
    assert {lead for *_, lead, _ in on_fourteenth} == {1}
    # The real indicator and inspection feeds: each rule as the brute force says, once.
    assert sorted(raised_of(d for d in first_logged if d["rule"] in INDICATOR_RULES)) == sorted(
        expected_raised
    )
    # 14 November, the quiet periods over: what they held back and still holds comes out.
    assert sorted(raised_of(d for d in everything if d["rule"] in INDICATOR_RULES)) == sorted(
        expected_released
    )
    # (which transitions a quiet period holds back depends on how the feed was batched:
    # tests/integration/notifications/test_quiet_period.py holds one on purpose)
    assert expected_raised <= expected_released
    assert sorted(
        (d["unit_id"], d["details"]["recommendation_id"])
        for d in everything
        if d["rule"] == "recommendation_overdue"
    ) == sorted(overdue)
    # Stable ids: a second service on the same feeds and day raises the same ones; every
    # notification is published once.
    assert replayed_ids == first_ids
    assert published == Counter(d["_id"] for d in everything)
    assert set(published.values()) == {1}
