"""The indicator service's handlers on the real FerretDB, with the feed and the people
topic lists: after a restart (a reload of the people, the stored facts and last records),
nothing already published is published again, versions go on from the stored ones, and
the plan gauges are set again from the records read (the service keeps only a fingerprint
of each record)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.indicators.domain.contributions import Rules
from services.indicators.domain.person_facts import PersonFacts
from services.indicators.domain.tally import Tally
from services.indicators.handlers import Collaborators, Province, apply_changes, sweep
from services.indicators.metrics import IndicatorMetrics, make_indicator_metrics
from services.indicators.people import NewestPeople
from services.indicators.store import IndicatorsStore, Published
from shared.clock import VIETNAM, ManualClock
from shared.internal import PersonChanged
from shared.kafka import OutgoingRecord
from shared.plans import load_plans
from shared.store import Document
from tests.facts import TREE, person, record_value, unit

PLANS = load_plans(Path(__file__).resolve().parents[2] / "deploy" / "plans")
NATIONAL = next(plan for plan in PLANS if plan.scope_unit_id is None)
INDICATOR = next(iter(NATIONAL.targets))
NOW = datetime(2026, 11, 21, 9, 30, tzinfo=VIETNAM)


class ListFeed:
    def __init__(self) -> None:
        self.records: list[OutgoingRecord] = []

    async def publish(self, records: Sequence[OutgoingRecord]) -> None:
        self.records.extend(records)


class ListPeople:
    """The people topic as a list of record values (offset: the place in the list), read
    by the service's own :class:`NewestPeople`."""

    def __init__(self) -> None:
        self.values: list[bytes] = []

    def published(self, change: PersonChanged) -> PersonChanged:
        self.values.append(record_value(change))
        return change

    @property
    def end(self) -> int:
        return len(self.values)

    async def newest(self, until: int) -> list[PersonFacts]:
        newest = NewestPeople()
        newest.take(self.values[:until])
        return list(newest.people.values())


class FailingRecord(IndicatorsStore):
    """The store going away after the records were published, before they were recorded."""

    async def save_page(
        self, number: int, records: Sequence[Published], *, as_of: str, as_of_utc: str
    ) -> int:
        raise ConnectionError("the store went away")


def started(
    db: Any, clock: ManualClock, people: ListPeople, store: IndicatorsStore | None = None
) -> tuple[Collaborators, ListFeed]:
    """The collaborators of a service just started: its province is reloaded first."""
    feed = ListFeed()
    deps = Collaborators(
        store=store or IndicatorsStore(db),
        people=people,
        feed=feed,
        clock=clock,
        metrics=make_indicator_metrics(),
        plans=PLANS,
        rules=Rules(),
        province=Province(tally=Tally(), stale=True),
    )
    return deps, feed


def gauge(metrics: IndicatorMetrics, name: str) -> float | None:
    labels = {"plan": NATIONAL.id, "indicator": INDICATOR, "scope_unit": "P"}
    return metrics.service.registry.get_sample_value(name, labels)


def versions(feed: ListFeed) -> dict[str, int]:
    """unit -> the version of its last record on the feed."""
    return {key.decode(): json.loads(value)["data"]["version"] for _, key, value, _ in feed.records}


async def test_a_restart_publishes_nothing_again_and_sets_the_gauges_from_the_records(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    db = mongo[database_name]
    clock = ManualClock(NOW)
    people = ListPeople()
    first, first_feed = started(db, clock, people)
    woman = people.published(person("W1", home="D1", positions=(("D1", "head"),), pools=("D1",)))
    await apply_changes([*(unit(u) for u in TREE), woman], deps=first, people_end=people.end)
    assert versions(first_feed) == dict.fromkeys(TREE, 1)
    value = gauge(first.metrics, "parity_indicator_value")
    target = gauge(first.metrics, "parity_indicator_target")
    assert value is not None
    assert target is not None

    again, again_feed = started(db, clock, people)
    await sweep(deps=again)  # the reload, then time passing: nothing changed
    assert again_feed.records == []
    assert gauge(again.metrics, "parity_indicator_value") == value
    assert gauge(again.metrics, "parity_indicator_target") == target

    man = people.published(person("M1", gender="male", home="D2", positions=(("D2", "head"),)))
    clock.advance(timedelta(minutes=1))
    await apply_changes([man], deps=again, people_end=people.end)
    assert versions(again_feed) == {"D2": 2, "A": 2, "P": 2}


def contents(feed: ListFeed) -> dict[tuple[str, int], set[str]]:
    """(unit, version) -> the contents published with it (without the instant)."""
    found: dict[tuple[str, int], set[str]] = {}
    for _, key, value, _ in feed.records:
        data = json.loads(value)["data"]
        content = {k: v for k, v in data.items() if k not in ("version", "as_of")}
        found.setdefault((key.decode(), data["version"]), set()).add(json.dumps(content))
    return found


async def test_records_published_and_not_recorded_are_published_again_the_same(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    """A batch publishes, then fails to record it; meanwhile a later person is on the topic.
    The reload reads the people up to the failed batch's, not to the topic's end: a version
    published again carries the same content."""
    db = mongo[database_name]
    clock = ManualClock(NOW)
    people = ListPeople()
    first, _ = started(db, clock, people)
    woman = people.published(person("W1", home="D1", positions=(("D1", "head"),)))
    await apply_changes([*(unit(u) for u in TREE), woman], deps=first, people_end=people.end)

    failing_feed = ListFeed()  # the same running service, its store failing to record
    failing = dataclasses.replace(first, store=FailingRecord(db), feed=failing_feed)
    man = people.published(person("M1", gender="male", home="D2", positions=(("D2", "head"),)))
    with pytest.raises(ConnectionError):
        await apply_changes([man], deps=failing, people_end=people.end)
    assert versions(failing_feed) == {"D2": 2, "A": 2, "P": 2}
    people.published(person("W2", home="D2", positions=(("D2", "deputy_head"),)))  # not read

    again, again_feed = started(db, clock, people)
    await sweep(deps=again)  # the reload publishes again what was not recorded
    assert versions(again_feed) == {"D2": 2, "A": 2, "P": 2}
    published = contents(failing_feed)
    for unit_version, republished in contents(again_feed).items():
        assert republished == published[unit_version], unit_version


def record_data(feed: ListFeed, unit_id: str, version: int) -> dict[str, Any]:
    """The data of a unit's record of that version on the feed (the first, if twice)."""
    for _, key, value, _ in feed.records:
        data: dict[str, Any] = json.loads(value)["data"]
        if key.decode() == unit_id and data["version"] == version:
            return data
    raise AssertionError(f"no record {unit_id}:{version}")


def trained_women(feed: ListFeed, unit_id: str, version: int) -> int:
    """The numerator of the trained-women indicator in a unit's record of that version."""
    data = record_data(feed, unit_id, version)
    numerator: int = data["indicators"]["trained_share_of_planned_women"]["numerator"]
    return numerator


def completed_expiring(at: datetime) -> datetime:
    """A training completed so that it stops qualifying just after ``at`` (five years)."""
    return at.replace(year=at.year - 5)


async def test_a_record_not_recorded_is_published_again_the_same_after_time_has_passed(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    """A batch publishes a trained woman and fails to record it; her training ages out
    before the service comes back. The reload computes at the instant the batch did, so the
    version published again carries the same content; the sweep then publishes the
    training aged out as the next version."""
    db = mongo[database_name]
    clock = ManualClock(NOW)
    people = ListPeople()
    first, _ = started(db, clock, people)
    await apply_changes([unit(u) for u in TREE], deps=first, people_end=people.end)

    failing_feed = ListFeed()  # the same running service, its store failing to record
    failing = dataclasses.replace(first, store=FailingRecord(db), feed=failing_feed)
    expiring = completed_expiring(NOW + timedelta(seconds=30))
    woman = people.published(person("W1", pools=("D1",), trainings=(expiring,)))
    with pytest.raises(ConnectionError):
        await apply_changes([woman], deps=failing, people_end=people.end)
    assert trained_women(failing_feed, "A", 2) == 1

    clock.advance(timedelta(minutes=1))  # the training stops qualifying meanwhile
    again, again_feed = started(db, clock, people)
    await sweep(deps=again)
    published = contents(failing_feed)
    republished = contents(again_feed)
    for unit_version in published:
        assert republished[unit_version] == published[unit_version], unit_version
    assert trained_women(again_feed, "A", 3) == 0


async def test_a_batch_publishes_what_time_changed_without_waiting_for_the_sweep(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    """A training ages out; the next batch, about someone else, publishes that too: what a
    batch publishes is what a rebuild at its instant would give."""
    db = mongo[database_name]
    clock = ManualClock(NOW)
    people = ListPeople()
    deps, feed = started(db, clock, people)
    expiring = completed_expiring(NOW + timedelta(seconds=30))
    woman = people.published(person("W1", pools=("D1",), trainings=(expiring,)))
    await apply_changes([*(unit(u) for u in TREE), woman], deps=deps, people_end=people.end)
    assert trained_women(feed, "A", 1) == 1

    clock.advance(timedelta(minutes=1))
    man = people.published(person("M1", gender="male", home="D2", positions=(("D2", "head"),)))
    await apply_changes([man], deps=deps, people_end=people.end)
    assert trained_women(feed, "A", 2) == 0
    assert trained_women(feed, "D1", 2) == 0  # D1 moved by the time passed alone


class FailingProgress(IndicatorsStore):
    """The store going away when a batch's progress is to be written."""

    async def save_progress(self, *, at: datetime, people_end: int | None = None) -> None:
        raise ConnectionError("the store went away")


async def test_no_fact_of_a_batch_is_published_as_of_an_instant_before_it(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    """A batch renames a unit and fails before it wrote its progress. The reload that
    follows computes at the instant of the batch before; the rename comes out with the
    batch when it comes again, as of its own instant, not earlier."""
    db = mongo[database_name]
    clock = ManualClock(NOW)
    people = ListPeople()
    first, _ = started(db, clock, people)
    await apply_changes([unit(u) for u in TREE], deps=first, people_end=people.end)

    clock.advance(timedelta(minutes=1))
    renamed_at = clock.now()
    rename = unit("D2", revision=2, name="D2 renamed")
    failing = dataclasses.replace(first, store=FailingProgress(db))
    with pytest.raises(ConnectionError):
        await apply_changes([rename], deps=failing, people_end=people.end)

    clock.advance(timedelta(minutes=1))
    again, again_feed = started(db, clock, people)
    await sweep(deps=again)  # the reload
    await apply_changes([rename], deps=again, people_end=people.end)  # the batch again
    assert datetime.fromisoformat(record_data(again_feed, "D2", 2)["as_of"]) >= renamed_at


async def test_a_replica_whose_clock_is_behind_does_not_turn_time_back(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    """A take-over by a host whose clock is 10 s behind, just after the turn of the year:
    its records are computed at the instant the last ones were, not in the year before."""
    db = mongo[database_name]
    people = ListPeople()
    new_year = datetime(2027, 1, 1, 0, 0, 5, tzinfo=VIETNAM)
    first, _ = started(db, ManualClock(new_year), people)
    head = people.published(person("W1", home="D1", positions=(("D1", "head"),)))
    await apply_changes([*(unit(u) for u in TREE), head], deps=first, people_end=people.end)

    behind = ManualClock(new_year - timedelta(seconds=10))  # 31 December, 23:59:55
    taking_over, feed = started(db, behind, people)
    deputy = people.published(person("W2", home="D1", positions=(("D1", "deputy_head"),)))
    await apply_changes([deputy], deps=taking_over, people_end=people.end)

    as_of = {datetime.fromisoformat(json.loads(v)["data"]["as_of"]) for _, _, v, _ in feed.records}
    assert as_of == {new_year}


async def test_a_replica_whose_page_number_was_taken_reloads_before_it_publishes_again(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    """Two replicas briefly both publishing (a rebalance): the one that finds its page
    number taken has missed the other's pages, and reloads before its next publication,
    so its versions go on from the other's."""
    db = mongo[database_name]
    clock = ManualClock(NOW)
    people = ListPeople()
    first, _ = started(db, clock, people)
    await apply_changes([unit(u) for u in TREE], deps=first, people_end=people.end)
    second, second_feed = started(db, clock, people)
    await sweep(deps=second)  # its reload: it knows page 1
    for name in ("W1", "W2"):  # the first replica's pages 2 and 3: A at version 3
        woman = people.published(person(name, home="D1", positions=(("D1", "head"),)))
        await apply_changes([woman], deps=first, people_end=people.end)
    man = people.published(person("M1", gender="male", home="D2", positions=(("D2", "head"),)))
    await apply_changes([man], deps=second, people_end=people.end)
    assert versions(second_feed)["A"] == 2  # what it knew: A at version 1
    assert second.province.stale
    assert second.province.last_page == 4

    clock.advance(timedelta(minutes=1))
    other = people.published(
        person("M2", gender="male", home="D2", positions=(("D2", "deputy_head"),))
    )
    await apply_changes([other], deps=second, people_end=people.end)
    assert not second.province.stale
    # its reload publishes A with all three people as version 4 (after the first
    # replica's 3), then the batch version 5; without the reload, version 3 twice
    assert [v for u, v in contents(second_feed) if u == "A"] == [2, 4, 5]


async def test_a_store_written_before_pages_is_read_once_and_versions_go_on_from_it(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    """Records a document each, with their checkpoints, as written before pages: the
    first start reads them, writes its snapshot, and publishes what differs as the
    versions after them."""
    db = mongo[database_name]
    for unit_id in TREE:
        content = {"unit_id": unit_id, "active": True, "indicators": {}}
        await db["indicator_history"].insert_one(
            {"_id": f"{unit_id}:16", "version": 16, "as_of": "x", "as_of_utc": "y", **content}
        )
        await db["unit_status"].insert_one({"_id": unit_id, "version": 16, "as_of": "x"})
    clock = ManualClock(NOW)
    people = ListPeople()
    deps, feed = started(db, clock, people)
    await apply_changes([unit(u) for u in TREE], deps=deps, people_end=people.end)
    assert versions(feed) == dict.fromkeys(TREE, 17)
    snapshot = await db["meta"].find_one({"_id": "published"})
    assert snapshot is not None
    assert snapshot["page"] == 0  # written on that start, before its first page
    again, again_feed = started(db, clock, people)
    await sweep(deps=again)
    assert again_feed.records == []
    assert {u: p.version for u, p in (await again.store.load_published()).items()} == dict.fromkeys(
        TREE, 17
    )
