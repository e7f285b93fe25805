"""The personnel service's tree with two writers, on the real FerretDB: the writer of unit
events keeps the directory it derived instead of reading every unit again, unless another
writer moved the tree between its read and its bump, and then derives the placements
again; a person writer that ties someone to a unit sees a closure written meanwhile."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.personnel.documents import (
    person_fields,
    unit_fields,
    unit_state_from_document,
    unit_states_from_documents,
)
from services.personnel.domain.people import fold_person
from services.personnel.domain.units import UnitDirectory, derive_tree
from services.personnel.handlers import Collaborators, apply_person_events
from services.personnel.store import PersonnelStore
from services.personnel.ties import UnitTies
from services.personnel.unit_handlers import PLACEMENT_FIELDS, apply_unit_events
from shared.contract import PERSONNEL_TOPIC, UNITS_TOPIC
from shared.documents import Write
from shared.envelope import CloudEvent, InboundEvent
from shared.store import Document
from tests import events as ev
from tests.integration.personnel_wiring import NOW, ListSink, collaborators
from tests.integration.personnel_wiring import inbound as unit_events


def inbound(events: Iterable[CloudEvent]) -> dict[str, list[InboundEvent]]:
    return unit_events(UNITS_TOPIC, events)


class CountingStore(PersonnelStore):
    """Counts the reads of every unit, and can run something just after a unit writer got
    the units (read or known)."""

    def __init__(self, db: Any) -> None:
        super().__init__(db)
        self.unit_reads = 0
        self.after_reading_units: Callable[[], Awaitable[None]] | None = None

    async def unit_documents(self) -> dict[str, Document]:
        self.unit_reads += 1
        return await super().unit_documents()

    async def units_at(self, version: int) -> Mapping[str, Document]:
        documents = await super().units_at(version)
        if self.after_reading_units is not None:
            run, self.after_reading_units = self.after_reading_units, None
            await run()
        return documents


def wired(db: Any) -> tuple[Collaborators, CountingStore]:
    store = CountingStore(db)
    return collaborators(store), store


async def fresh_directory(db: Any) -> UnitDirectory:
    return UnitDirectory.of(unit_states_from_documents(await PersonnelStore(db).unit_documents()))


async def test_the_writer_keeps_the_directory_it_derived(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    db = mongo[database_name]
    deps, store = wired(db)
    tree = [
        ev.unit_registered("P", None, "province", day=-100),
        ev.unit_registered("A", "P", "agency", day=-100),
        ev.unit_registered("D1", "A", day=-100),
        ev.unit_registered("D2", "A", day=-100),
    ]
    await apply_unit_events(inbound(tree), deps=deps)
    assert store.unit_reads == 1  # nothing known yet
    await apply_unit_events(inbound([ev.unit_merged("D1", "D2", day=-10)]), deps=deps)

    directory, version = await store.unit_directory()
    assert store.unit_reads == 1  # neither the second batch nor the directory read them
    assert directory == await fresh_directory(db)
    assert directory.closed == {"D1"}
    # the units it knows are the units as stored: revisions and placements the merge wrote
    assert await store.units_at(version) == await PersonnelStore(db).unit_documents()


async def test_a_tree_moved_by_another_writer_meanwhile_is_read_again(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    db = mongo[database_name]
    deps, store = wired(db)
    await apply_unit_events(
        inbound([ev.unit_registered("P", None, "province", day=-100)]), deps=deps
    )
    other = PersonnelStore(db)  # another replica

    async def other_writes() -> None:
        await apply_unit_events(
            inbound([ev.unit_registered("A2", "P", "agency", day=-50)]),
            deps=collaborators(other),
        )

    # after this writer read the units, before its bump: its directory would lack A2
    store.after_reading_units = other_writes
    store.unit_reads = 0
    await apply_unit_events(inbound([ev.unit_registered("A", "P", "agency", day=-100)]), deps=deps)

    directory, version = await store.unit_directory()
    assert store.unit_reads == 2  # to place the units again, then for the directory
    assert await store.units_at(version) == await PersonnelStore(db).unit_documents()
    assert directory == await fresh_directory(db)
    assert {"P", "A", "A2"} <= directory.registered


def three_divisions() -> list[CloudEvent]:
    """P > A > D1, D2, D3, registered long ago."""
    return [
        ev.unit_registered("P", None, "province", day=-100),
        ev.unit_registered("A", "P", "agency", day=-100),
        *(ev.unit_registered(d, "A", day=-100) for d in ("D1", "D2", "D3")),
    ]


class TiesWithAHook(UnitTies):
    """Runs something once, just before the next ties are added."""

    def __init__(self, db: Any) -> None:
        super().__init__(db["unit_people"], db["people"], db["units_ahead"])
        self.before_adding: Callable[[], Awaitable[None]] | None = None

    async def add(
        self, people_by_unit: Mapping[str, Iterable[str]], *, ahead: Iterable[str] = ()
    ) -> None:
        if self.before_adding is not None and people_by_unit:
            run, self.before_adding = self.before_adding, None
            await run()
        await super().add(people_by_unit, ahead=ahead)


async def test_a_unit_closed_by_another_writer_while_a_person_is_tied_to_it_reaches_her(
    mongo: AsyncMongoClient[Document], database_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Replica B closes D1 after replica A read the tree and before A tied X to D1: B's
    re-fold of D1's people misses X, so A must see the tree moved and fold X again."""
    db = mongo[database_name]
    store = PersonnelStore(db)
    ties = store.ties = TiesWithAHook(db)
    deps = collaborators(store)
    units = collaborators(PersonnelStore(db))  # replica B, the units' writer
    await apply_unit_events(inbound(three_divisions()), deps=units)
    await apply_person_events(
        unit_events(PERSONNEL_TOPIC, [ev.person_registered("X", "D2", day=-20)]), deps=deps
    )

    async def close_d1() -> None:
        await apply_unit_events(inbound([ev.unit_merged("D1", "D3", day=-10)]), deps=units)

    ties.before_adding = close_d1
    caplog.set_level(logging.INFO, logger="parity.personnel")
    await apply_person_events(
        unit_events(PERSONNEL_TOPIC, [ev.appointed("X", "D1", "deputy_head", day=-15)]), deps=deps
    )

    assert ties.before_adding is None, "the hook did not run: the test proves nothing"
    stored = (await PersonnelStore(db).load("people", ["X"]))["X"]
    directory = await fresh_directory(db)
    refolded = person_fields(fold_person("X", stored.history, directory, NOW))
    assert stored.fields == refolded
    assert "D1" not in {p["unit_id"] for p in stored.fields["positions"]}
    assert "the tree moved during a fold of 1 people: folding them again" in caplog.text


async def test_a_tree_another_replica_moved_before_a_batch_reaches_its_people(
    mongo: AsyncMongoClient[Document], database_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch of person events folds on the directory its process knows, without reading
    the tree first. Replica B merged D1 into D3 before the batch that transfers X to D1, so
    the batch folds her into D1 as if it were open: the check after its write sees the
    tree moved, and folds her again on the tree as stored."""
    db = mongo[database_name]
    deps = collaborators(PersonnelStore(db))
    await apply_unit_events(inbound(three_divisions()), deps=deps)  # this replica knows it
    units = collaborators(PersonnelStore(db))  # replica B
    await apply_unit_events(inbound([ev.unit_merged("D1", "D3", day=-10)]), deps=units)

    caplog.set_level(logging.INFO, logger="parity.personnel")
    history = [ev.person_registered("X", "D2", day=-20), ev.transferred("X", "D1", day=-15)]
    await apply_person_events(unit_events(PERSONNEL_TOPIC, history), deps=deps)

    stored = (await PersonnelStore(db).load("people", ["X"]))["X"]
    refolded = person_fields(fold_person("X", stored.history, await fresh_directory(db), NOW))
    assert stored.fields == refolded
    assert (stored.fields["home_unit_id"], stored.fields["active"]) == ("D3", True)
    assert "the tree moved during a fold of 1 people: folding them again" in caplog.text


class SavesWithAHook(PersonnelStore):
    """Runs something once, just before the next people are written."""

    before_saving_people: Callable[[], Awaitable[None]] | None = None

    async def save(self, collection: str, writes: list[Write]) -> list[str]:
        if collection == "people" and writes and self.before_saving_people is not None:
            run, self.before_saving_people = self.before_saving_people, None
            await run()
        return await super().save(collection, writes)


async def test_a_unit_closed_between_a_persons_fold_and_her_write_reaches_her(
    mongo: AsyncMongoClient[Document], database_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """X is tied to D1 already (she was its deputy head). Replica B merges D1 into D3 after
    replica A folded X's transfer to D1 and before A writes it: B's re-fold of D1's people
    reads X without the transfer and changes nothing, and A's write would leave X homed in
    a closed unit. The gauges read the tree meanwhile on A, as they may."""
    db = mongo[database_name]
    store = SavesWithAHook(db)
    deps = collaborators(store)
    units = collaborators(PersonnelStore(db))  # replica B, the units' writer
    await apply_unit_events(inbound(three_divisions()), deps=units)
    history = [  # she was in D3 and in D1 before: the merge adds no tie to her
        ev.person_registered("X", "D3", day=-40),
        ev.appointed("X", "D1", "deputy_head", day=-30),
        ev.position_ended("X", "D1", "deputy_head", day=-25),
        ev.transferred("X", "D2", day=-20),
    ]
    await apply_person_events(unit_events(PERSONNEL_TOPIC, history), deps=deps)

    async def merge_d1() -> None:
        await apply_unit_events(inbound([ev.unit_merged("D1", "D3", day=-10)]), deps=units)
        await store.count_pending()  # the gauges, on A

    store.before_saving_people = merge_d1
    caplog.set_level(logging.INFO, logger="parity.personnel")
    await apply_person_events(
        unit_events(PERSONNEL_TOPIC, [ev.transferred("X", "D1", day=-15)]), deps=deps
    )

    assert store.before_saving_people is None, "the hook did not run: the test proves nothing"
    stored = (await PersonnelStore(db).load("people", ["X"]))["X"]
    refolded = person_fields(fold_person("X", stored.history, await fresh_directory(db), NOW))
    assert stored.fields == refolded
    assert (stored.fields["home_unit_id"], stored.fields["active"]) == ("D3", True)
    assert "the tree moved during a fold of 1 people: folding them again" in caplog.text


async def test_the_merge_of_a_former_home_reaches_a_person_written_at_once(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    """X's registration in U and her transfer out of U arrive in one batch, and U's merge
    into M, dated between them, arrives after: the merge moved her to M before the
    transfer, so the transfer out of M ends her position there. Her tie to U, a unit she
    is no longer in, is what brings the merge to her."""
    db = mongo[database_name]
    deps = collaborators(PersonnelStore(db))
    tree = [
        ev.unit_registered("P", None, "province", day=-100),
        ev.unit_registered("U", "P", day=-100),
        ev.unit_registered("M", "P", day=-100),
        ev.unit_registered("V", "P", day=-100),
    ]
    await apply_unit_events(inbound(tree), deps=deps)
    history = [
        ev.person_registered("X", "U", day=-10),
        ev.appointed("X", "M", "head", day=-9),
        ev.transferred("X", "V", day=-7),
    ]
    await apply_person_events(unit_events(PERSONNEL_TOPIC, history), deps=deps)
    await apply_unit_events(inbound([ev.unit_merged("U", "M", day=-8)]), deps=deps)

    stored = (await PersonnelStore(db).load("people", ["X"]))["X"]
    assert "U" in stored.fields["tied_units"]
    assert stored.fields["positions"] == []
    assert stored.fields["home_unit_id"] == "V"


async def test_placements_derived_while_another_writer_moved_the_tree_are_derived_again(
    mongo: AsyncMongoClient[Document], database_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Replica B moves D2 under A2 after this writer read the units and before it merges
    D1 into D2: the merge moves C (D1's child) under D2, and C's path must come out under
    A2, as a derivation from every unit as stored gives it."""
    db = mongo[database_name]
    deps, store = wired(db)
    tree = [
        ev.unit_registered("P", None, "province", day=-100),
        ev.unit_registered("A", "P", "agency", day=-100),
        ev.unit_registered("A2", "P", "agency", day=-100),
        ev.unit_registered("D1", "A", day=-100),
        ev.unit_registered("D2", "A", day=-100),
        ev.unit_registered("C", "D1", day=-100),
    ]
    await apply_unit_events(inbound(tree), deps=deps)

    async def other_writes() -> None:
        await apply_unit_events(
            inbound([ev.unit_updated("D2", day=-20, parent_id="A2")]),
            deps=collaborators(PersonnelStore(db)),
        )

    store.after_reading_units = other_writes
    await apply_unit_events(inbound([ev.unit_merged("D1", "D2", day=-10)]), deps=deps)

    assert store.after_reading_units is None, "the hook did not run: the test proves nothing"
    documents = await PersonnelStore(db).unit_documents()
    placements = derive_tree(unit_states_from_documents(documents))
    for unit_id, document in documents.items():
        fields = unit_fields(unit_state_from_document(document), placements.get(unit_id))
        stored = {k: document.get(k) for k in PLACEMENT_FIELDS}
        assert stored == {k: fields[k] for k in PLACEMENT_FIELDS}, unit_id
    assert documents["C"]["path"] == ["P", "A2", "D2"]
    assert "the tree moved meanwhile: placements of 1 units derived again" in caplog.text


async def test_each_anomaly_is_counted_once_however_often_it_is_folded_again(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    db = mongo[database_name]
    deps = collaborators(PersonnelStore(db))

    def counted(kind: str) -> float:
        value = deps.metrics.registry.get_sample_value(
            "parity_personnel_anomalies_total", {"kind": kind}
        )
        return value or 0.0

    tree = [
        ev.unit_registered("P", None, "province", day=-100),
        ev.unit_updated("Q", day=-90, name="not registered yet"),  # unit_not_registered
        ev.unit_registered("D1", "P", day=-100),
    ]
    await apply_unit_events(inbound(tree), deps=deps)
    history = [
        ev.person_registered("X", "D1", day=-20),
        ev.position_ended("X", "D1", "head", day=-10),  # position_not_held
    ]
    for _ in range(2):  # the second time, a redelivery
        await apply_person_events(unit_events(PERSONNEL_TOPIC, history), deps=deps)
    await apply_unit_events(inbound([ev.unit_updated("D1", day=-5, name="Phòng 1")]), deps=deps)
    await apply_person_events({"X": []}, deps=deps)  # a re-fold with nothing new

    assert counted("position_not_held") == 1
    assert counted("unit_not_registered") == 1


async def test_a_re_fold_of_someone_never_written_writes_nothing(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    """A tie (or an agenda entry) is written before the person document; a writer that
    died in between leaves one behind, and a unit event re-folds its person."""
    db = mongo[database_name]
    sink = ListSink()
    deps = collaborators(PersonnelStore(db), sink)
    await apply_person_events({"GHOST": []}, deps=deps)
    assert await db["people"].find_one({"_id": "GHOST"}) is None
    assert sink.changes == []
