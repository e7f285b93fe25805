"""The indicator service's handlers on the real FerretDB, with the feed and the people
topic lists: after a restart (a reload of the people, the stored facts and last records),
nothing already published is published again, versions go on from the stored ones, and
the plan gauges are set again from the records read (the service keeps only a fingerprint
of each record)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from services.indicators.domain.contributions import Rules
from services.indicators.domain.person_facts import PersonFacts
from services.indicators.domain.tally import Tally
from services.indicators.handlers import Collaborators, Province, apply_changes, sweep
from services.indicators.metrics import IndicatorMetrics, make_indicator_metrics
from services.indicators.store import IndicatorsStore
from shared.clock import VIETNAM, ManualClock
from shared.internal import PersonChanged
from shared.kafka import OutgoingRecord
from shared.plans import load_plans
from shared.store import Document
from tests.facts import TREE, person, unit

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
    """The people topic: every change published, newest revision of each person read."""

    def __init__(self) -> None:
        self.changes: list[PersonChanged] = []

    def published(self, change: PersonChanged) -> PersonChanged:
        self.changes.append(change)
        return change

    async def newest(self) -> list[PersonFacts]:
        newest: dict[str, PersonChanged] = {}
        for change in self.changes:
            known = newest.get(change.person_id)
            if known is None or known.revision < change.revision:
                newest[change.person_id] = change
        return [PersonFacts.of(change) for change in newest.values()]


def started(db: Any, clock: ManualClock, people: ListPeople) -> tuple[Collaborators, ListFeed]:
    """The collaborators of a service just started: its province is reloaded first."""
    feed = ListFeed()
    deps = Collaborators(
        store=IndicatorsStore(db),
        people=people,
        feed=feed,  # type: ignore[arg-type]
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
    await apply_changes([*(unit(u) for u in TREE), woman], deps=first)
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
    await apply_changes([man], deps=again)
    assert versions(again_feed) == {"D2": 2, "A": 2, "P": 2}
