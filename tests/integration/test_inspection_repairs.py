"""What follows an inspection's write when the batch or the sweep stops half-way, on the
real FerretDB: the inspection is written, and its units' statuses, their publication or the
roll-ups are not (the service dies, Kafka or the store is away). The batch comes again
(Kafka redelivers it, maybe with more events) or the sweep comes again, and must finish
what was left; a sweep that reads old facts must not overwrite newer roll-ups."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timedelta

import pytest
from pymongo import AsyncMongoClient

from services.inspections import handlers
from services.inspections.handlers import (
    Collaborators,
    apply_inspection_events,
    by_subject,
    refresh_rollups,
    sweep,
)
from services.inspections.metrics import make_inspection_metrics
from services.inspections.store import InspectionsStore
from shared.clock import VIETNAM, ManualClock
from shared.documents import Stored, Write
from shared.envelope import InboundEvent
from shared.internal import UnitInspectionStatus
from shared.organisation import Organisation
from shared.store import Document
from tests.facts import TREE, unit
from tests.unit.test_inspection_fold import T0, finding, planned, recommended

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=VIETNAM)
RECOMMENDED_ON = 266  # days after T0: 2026-11-22


class ListSink:
    def __init__(self) -> None:
        self.statuses: list[UnitInspectionStatus] = []

    async def publish(self, statuses: list[UnitInspectionStatus]) -> None:
        self.statuses.extend(statuses)

    def of(self, unit_id: str) -> list[UnitInspectionStatus]:
        return [s for s in self.statuses if s.unit_id == unit_id]


class FailingSink(ListSink):
    async def publish(self, statuses: list[UnitInspectionStatus]) -> None:
        raise ConnectionError("Kafka went away")


class HookedStore(InspectionsStore):
    """The real store, with a failure or a hook where a test needs one."""

    fail_unit_writes = 0
    fail_rollup_writes = 0
    unloadable: set[str] = set()  # noqa: RUF012 (set per test)
    after_reading_facts: Callable[[], Awaitable[None]] | None = None

    async def save_units(self, writes: list[Write]) -> list[str]:
        if self.fail_unit_writes:
            self.fail_unit_writes -= 1
            raise ConnectionError("the store went away")
        return await super().save_units(writes)

    async def save_rollups(
        self, documents: Mapping[str, Document], as_of: datetime, version: int
    ) -> None:
        if self.fail_rollup_writes:
            self.fail_rollup_writes -= 1
            raise ConnectionError("the store went away")
        await super().save_rollups(documents, as_of, version)

    async def load_inspections(self, subjects: Iterable[str]) -> dict[str, Stored]:
        wanted = set(subjects)
        if wanted & self.unloadable:
            raise ValueError(f"cannot read {sorted(wanted & self.unloadable)}")
        return await super().load_inspections(wanted)

    async def all_unit_facts(self) -> dict[str, Document]:
        facts = await super().all_unit_facts()
        hook, self.after_reading_facts = self.after_reading_facts, None
        if hook is not None:
            await hook()
        return facts


@pytest.fixture
async def store(mongo: AsyncMongoClient[Document], database_name: str) -> HookedStore:
    store = HookedStore(mongo[database_name])
    store.unloadable = set()
    await store.create_indexes()
    return store


def wired(store: InspectionsStore, clock: ManualClock, sink: ListSink) -> Collaborators:
    organisation = Organisation()
    for unit_id in TREE:
        organisation.apply(unit(unit_id))
    return Collaborators(
        store=store,
        statuses=sink,
        organisation=organisation,
        clock=clock,
        metrics=make_inspection_metrics(),
    )


def as_inspection(event: InboundEvent, inspection_id: str) -> InboundEvent:
    """The fold tests' event, of another inspection."""
    payload = event.payload
    if "inspection_id" in type(payload).model_fields:
        payload = payload.model_copy(update={"inspection_id": inspection_id})
    return dataclasses.replace(event, subject=inspection_id, payload=payload)


def open_ids(status: UnitInspectionStatus) -> list[str]:
    return [r.recommendation_id for r in status.open_recommendations]


async def test_a_sweep_that_wrote_and_did_not_publish_publishes_when_it_comes_again(
    store: HookedStore,
) -> None:
    """Inspection I1 of unit D2 has a recommendation effective tomorrow: it waits for the
    sweep, which writes D2's status and cannot publish it."""
    assert T0 + timedelta(days=RECOMMENDED_ON) > NOW
    clock, sink = ManualClock(NOW), ListSink()
    deps = wired(store, clock, sink)
    events = [planned(0, units=("D2",)), recommended(RECOMMENDED_ON, unit="D2")]
    await apply_inspection_events(by_subject(events), deps=deps)
    before = max(s.revision for s in sink.of("D2"))

    clock.advance(timedelta(days=2))
    with pytest.raises(ExceptionGroup) as failed:
        await sweep(dataclasses.replace(deps, statuses=FailingSink()))
    assert failed.group_contains(ConnectionError)
    stored = await store.unit_inspections.find_one({"_id": "D2"})
    assert stored is not None
    assert stored["rev"] == before + 1  # written, not published

    await sweep(deps)  # the sweep again (after a restart, or on its next tick)
    assert max(s.revision for s in sink.of("D2")) == before + 1


async def test_a_redelivery_with_more_events_publishes_what_the_failed_batch_wrote(
    store: HookedStore,
) -> None:
    """Batch [R1 for D1] writes D1's status and cannot publish it; Kafka brings it again
    with a finding for D2. D1's status is stored already, unchanged by this batch: it must
    be published all the same."""
    clock, sink = ManualClock(NOW), ListSink()
    deps = wired(store, clock, sink)
    await apply_inspection_events(by_subject([planned(0, units=("D1", "D2"))]), deps=deps)
    issued = recommended(30, rec="R1", unit="D1")
    failing = dataclasses.replace(deps, statuses=FailingSink())
    with pytest.raises(ConnectionError):
        await apply_inspection_events(by_subject([issued]), deps=failing)
    assert not any(open_ids(s) for s in sink.of("D1"))

    await apply_inspection_events(
        by_subject([issued, finding(31, finding_id="F9", unit="D2")]), deps=deps
    )
    stored = await store.unit_inspections.find_one({"_id": "D1"})
    assert stored is not None
    newest = max(sink.of("D1"), key=lambda s: s.revision)
    assert (newest.revision, open_ids(newest)) == (stored["rev"], ["R1"])


@pytest.mark.parametrize("fails", ["publication", "unit_write"])
async def test_a_unit_a_replan_drops_is_recomputed_when_the_batch_comes_again(
    store: HookedStore, fails: str
) -> None:
    """Planned for D1 and D3, re-planned for D1 alone: the inspection is written, and D3's
    status is not written or not published. The redelivered batch finds the inspection
    naming D3 no more, and must still recompute and publish D3."""
    clock, sink = ManualClock(NOW), ListSink()
    deps = wired(store, clock, sink)
    await apply_inspection_events(by_subject([planned(0, units=("D1", "D3"))]), deps=deps)
    assert sink.of("D3")[-1].inspected_years == [2026]
    replanned = planned(20, units=("D1",), id="replan")
    failing = deps
    if fails == "publication":
        failing = dataclasses.replace(deps, statuses=FailingSink())
    else:
        store.fail_unit_writes = 1
    with pytest.raises(ConnectionError):
        await apply_inspection_events(by_subject([replanned]), deps=failing)

    await apply_inspection_events(by_subject([replanned]), deps=deps)  # redelivered
    stored = await store.unit_inspections.find_one({"_id": "D3"})
    assert stored is not None
    newest = max(sink.of("D3"), key=lambda s: s.revision)
    assert newest.revision == stored["rev"]
    assert (newest.inspected_years, stored["inspected_years"]) == ([], [])


async def test_a_sweep_that_read_older_facts_does_not_overwrite_newer_roll_ups(
    store: HookedStore,
) -> None:
    """Two replicas: B's sweep reads every unit's facts; A then applies a recommendation
    for D1 and writes the roll-ups; B writes what it computed from the older facts."""
    clock = ManualClock(NOW)
    replica_a, replica_b = wired(store, clock, ListSink()), wired(store, clock, ListSink())
    await apply_inspection_events(by_subject([planned(0, units=("D1",))]), deps=replica_a)

    async def meanwhile() -> None:
        issued = recommended(30, rec="R1", unit="D1")
        await apply_inspection_events(by_subject([issued]), deps=replica_a)

    store.after_reading_facts = meanwhile
    await refresh_rollups(None, deps=replica_b)
    for unit_id in ("D1", "A", "P"):
        rollup = await store.unit_status.find_one({"_id": unit_id})
        assert rollup is not None
        assert rollup["subtree"]["open_recommendations"] == 1, unit_id


async def test_a_year_turn_whose_roll_ups_failed_is_done_by_the_next_sweep(
    store: HookedStore,
) -> None:
    clock = ManualClock(NOW)
    deps = wired(store, clock, ListSink())
    await apply_inspection_events(by_subject([planned(0, units=("D1",))]), deps=deps)
    await sweep(deps)  # the tree is known: the first full computation
    rollup = await store.unit_status.find_one({"_id": "A"})
    assert rollup is not None
    assert rollup["year"] == 2026

    clock.set(datetime(2027, 1, 1, 1, 0, tzinfo=VIETNAM))
    store.fail_rollup_writes = 1
    with pytest.raises(ExceptionGroup):
        await sweep(deps)
    await sweep(deps)
    rollup = await store.unit_status.find_one({"_id": "A"})
    assert rollup is not None
    assert rollup["year"] == 2027


async def test_an_inspection_that_cannot_be_swept_stops_no_other(
    store: HookedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """I1 and I2 each have a recommendation effective tomorrow; I2 cannot be read. The
    sweep applies I1's, raises I2's failure, and keeps I2 due."""
    monkeypatch.setattr(handlers, "SWEEP_CHUNK", 1)
    clock, sink = ManualClock(NOW), ListSink()
    deps = wired(store, clock, sink)
    for inspection_id, unit_id in (("I1", "D1"), ("I2", "D2")):
        events = [planned(0, units=(unit_id,)), recommended(RECOMMENDED_ON, unit=unit_id)]
        mine = [as_inspection(e, inspection_id) for e in events]
        await apply_inspection_events(by_subject(mine), deps=deps)

    clock.advance(timedelta(days=2))
    store.unloadable = {"I2"}
    with pytest.raises(ExceptionGroup) as failed:
        await sweep(deps)
    assert failed.group_contains(ValueError, match="I2")
    assert open_ids(max(sink.of("D1"), key=lambda s: s.revision)) == ["R1"]
    assert set(await store.agenda.due(clock.now())) == {"I2"}

    store.unloadable = set()
    await sweep(deps)
    assert open_ids(max(sink.of("D2"), key=lambda s: s.revision)) == ["R1"]
    assert await store.agenda.due(clock.now()) == {}
