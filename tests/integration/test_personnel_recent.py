"""The personnel service's copy of recent people (services/personnel/recent.py) on the
real FerretDB, with two replicas writing one person: new events start from the copy, a copy
made stale by the other replica costs a retry and loses nothing, a re-fold reads the store."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo import AsyncMongoClient

from services.personnel.handlers import Collaborators, apply_person_events
from services.personnel.store import PersonnelStore
from services.personnel.unit_handlers import apply_unit_events
from shared.contract import PERSONNEL_TOPIC, UNITS_TOPIC
from shared.documents import Stored, history_documents
from shared.store import Document
from tests import events as ev
from tests.integration.personnel_wiring import ListSink, collaborators, inbound


class ReadingStore(PersonnelStore):
    """Records the people each batch reads from the store."""

    def __init__(self, db: Any) -> None:
        super().__init__(db, recent_people=100)
        self.people_read: list[set[str]] = []

    async def load(self, collection: str, subjects: Iterable[str]) -> dict[str, Stored]:
        subjects = set(subjects)
        if collection == "people":
            self.people_read.append(subjects)
        return await super().load(collection, subjects)


async def tree(db: Any) -> None:
    events = [
        ev.unit_registered("P", None, "province", day=-100),
        ev.unit_registered("D1", "P", day=-100),
    ]
    await apply_unit_events(inbound(UNITS_TOPIC, events), deps=collaborators(PersonnelStore(db)))


async def registered_here(
    db: Any, sink: ListSink | None = None
) -> tuple[ReadingStore, Collaborators]:
    """A replica whose store records its reads, once it registered W1 in D1 of the tree."""
    await tree(db)
    store = ReadingStore(db)
    deps = collaborators(store, sink)
    registered = [ev.person_registered("W1", "D1")]
    await apply_person_events(inbound(PERSONNEL_TOPIC, registered), deps=deps)
    return store, deps


async def test_new_events_of_a_person_written_here_start_from_the_copy(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    db = mongo[database_name]
    store, deps = await registered_here(db)
    await apply_person_events(inbound(PERSONNEL_TOPIC, [ev.appointed("W1", "D1")]), deps=deps)

    assert store.people_read == [{"W1"}, set()]
    stored = await db["people"].find_one({"_id": "W1"})
    assert stored is not None
    assert stored["rev"] == 2
    assert [e["type"] for e in history_documents(stored["history"])] == [
        "hr.person.registered",
        "hr.position.appointed",
    ]


async def test_a_copy_made_stale_by_another_replica_costs_a_retry_and_loses_nothing(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    db = mongo[database_name]
    sink = ListSink()
    store, here = await registered_here(db, sink)
    there = collaborators(PersonnelStore(db, recent_people=100))
    await apply_person_events(inbound(PERSONNEL_TOPIC, [ev.appointed("W1", "D1")]), deps=there)

    await apply_person_events(inbound(PERSONNEL_TOPIC, [ev.trained("W1", day=5)]), deps=here)

    assert store.people_read == [{"W1"}, set(), {"W1"}]  # the copy, then the store
    stored = await db["people"].find_one({"_id": "W1"})
    assert stored is not None
    assert stored["rev"] == 3
    assert len(history_documents(stored["history"])) == 3
    last = sink.changes[-1]
    assert (last.revision, [p["unit_id"] for p in last.data["positions"]]) == (3, ["D1"])
    assert len(last.data["trainings"]) == 1


async def test_a_refold_without_events_reads_the_person_from_the_store(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    store, deps = await registered_here(mongo[database_name])
    await apply_person_events({"W1": []}, deps=deps)
    assert store.people_read == [{"W1"}, {"W1"}]
