"""The inspections service's sweep stopped half-way, on the real FerretDB: a future-dated
event takes effect, the inspection and its unit's status are written, and the status is
not published (the service dies, or Kafka is away). The sweep that comes again finds the
inspection written and must still publish the unit's status: nothing redelivers a sweep."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
from pymongo import AsyncMongoClient

from services.inspections.handlers import (
    Collaborators,
    apply_inspection_events,
    by_subject,
    sweep,
)
from services.inspections.metrics import make_inspection_metrics
from services.inspections.store import InspectionsStore
from shared.clock import VIETNAM, ManualClock
from shared.envelope import InboundEvent
from shared.internal import UnitInspectionStatus
from shared.organisation import Organisation
from shared.store import Document
from tests.facts import TREE, unit
from tests.unit.test_inspection_fold import T0, planned, recommended

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=VIETNAM)
RECOMMENDED_ON = 266  # days after T0: 2026-11-22


class ListSink:
    def __init__(self) -> None:
        self.statuses: list[UnitInspectionStatus] = []

    async def publish(self, statuses: list[UnitInspectionStatus]) -> None:
        self.statuses.extend(statuses)


class FailingSink(ListSink):
    async def publish(self, statuses: list[UnitInspectionStatus]) -> None:
        raise ConnectionError("Kafka went away")


def events() -> dict[str, list[InboundEvent]]:
    """Inspection I1 of unit D2, with a recommendation effective tomorrow: it waits for the
    sweep."""
    assert T0 + timedelta(days=RECOMMENDED_ON) > NOW
    return by_subject([planned(0, units=("D2",)), recommended(RECOMMENDED_ON, unit="D2")])


async def test_a_sweep_that_wrote_and_did_not_publish_publishes_when_it_comes_again(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    store = InspectionsStore(mongo[database_name])
    await store.create_indexes()
    organisation = Organisation()
    for unit_id in TREE:
        organisation.apply(unit(unit_id))
    clock, sink = ManualClock(NOW), ListSink()
    deps = Collaborators(
        store=store,
        statuses=sink,
        organisation=organisation,
        clock=clock,
        metrics=make_inspection_metrics(),
    )
    await apply_inspection_events(events(), deps=deps)
    before = max(s.revision for s in sink.statuses if s.unit_id == "D2")

    clock.advance(timedelta(days=2))
    with pytest.raises(ConnectionError):
        await sweep(dataclasses.replace(deps, statuses=FailingSink()))
    stored = await store.unit_inspections.find_one({"_id": "D2"})
    assert stored is not None
    assert stored["rev"] == before + 1  # written, not published

    await sweep(deps)  # the sweep again (after a restart, or on its next tick)
    assert max(s.revision for s in sink.statuses if s.unit_id == "D2") == before + 1
