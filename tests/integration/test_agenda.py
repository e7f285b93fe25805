"""The agenda (shared/agenda.py) and the personnel service's use of it, on the real FerretDB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient, monitoring

from services.personnel.store import PersonnelStore
from shared.agenda import NOTHING_WAITS, Agenda, entries_to_expect
from shared.documents import instant
from shared.store import Document

NOW = datetime(2025, 6, 1, 8, tzinfo=UTC)


async def test_due_entries_move_on_or_go_unless_a_writer_changed_them(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    db = mongo[database_name]
    agenda = Agenda(db["people_due"], db["people"], db["meta"])
    await agenda.expect({"P1": NOW - timedelta(hours=1), "P2": NOW, "P3": NOW + timedelta(days=1)})
    seen = await agenda.due(NOW)
    assert set(seen) == {"P1", "P2"}
    # meanwhile another writer announces a later future event of P2
    await agenda.expect({"P2": NOW + timedelta(days=3)})
    # the sweep folded P1 (next due in two days) and P2 (it saw no future event left)
    await db["people"].insert_many(
        [
            {"_id": "P1", "next_due": instant(NOW + timedelta(days=2))},
            {"_id": "P2", "next_due": None},
        ]
    )
    await agenda.reschedule(seen)
    assert await agenda.due(NOW) == {}
    later = await agenda.due(NOW + timedelta(days=10))
    assert later == {
        "P1": instant(NOW + timedelta(days=2)),
        "P2": instant(NOW + timedelta(days=3)),  # the writer's entry survived the sweep
        "P3": instant(NOW + timedelta(days=1)),
    }
    await agenda.reschedule({"P3": later["P3"]})  # no document: nothing waits
    assert set(await agenda.due(NOW + timedelta(days=10))) == {"P1", "P2"}
    assert await agenda.count() == 2


def test_an_entry_is_expected_where_the_next_due_time_is_new_or_changed() -> None:
    at, later = instant(NOW), instant(NOW + timedelta(days=1))
    writes: list[tuple[str, Document, Document | None]] = [
        ("new", {"next_due": at}, None),
        ("same", {"next_due": at}, {"next_due": at}),
        ("moved", {"next_due": later}, {"next_due": at}),
        ("none", {"next_due": None}, {"next_due": at}),
    ]
    assert entries_to_expect(writes) == {"new": NOW, "moved": NOW + timedelta(days=1)}


async def test_a_database_written_before_agendas_gets_them_once(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    db = mongo[database_name]
    await db["people"].insert_many(
        [
            {"_id": "P1", "rev": 1, "history": [], "next_due": instant(NOW)},
            {"_id": "P2", "rev": 1, "history": [], "next_due": None},
        ]
    )
    await db["units"].insert_one({"_id": "U1", "rev": 1, "history": [], "next_due": instant(NOW)})
    store = PersonnelStore(db)
    await store.build_lookups()
    assert set(await store.due("people", NOW)) == {"P1"}
    assert set(await store.due("units", NOW)) == {"U1"}
    await store.reschedule("people", await store.due("people", NOW))  # P1 still says NOW
    await db["people"].insert_one({"_id": "P3", "rev": 1, "history": [], "next_due": instant(NOW)})
    await store.build_lookups()  # done already: P3 is not picked up from its document
    assert set(await store.due("people", NOW)) == {"P1"}


class EntryReads(monitoring.CommandListener):
    """Counts the reads of the entries (``people_due``)."""

    def __init__(self) -> None:
        self.count = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find" and event.command["find"] == "people_due":
            self.count += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
async def watched(mongodb_url: str, database_name: str) -> AsyncIterator[tuple[Agenda, EntryReads]]:
    """An agenda on a client whose reads of the entries are counted."""
    reads = EntryReads()
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongodb_url, event_listeners=[reads])
    db = client[database_name]
    yield Agenda(db["people_due"], db["people"], db["meta"]), reads
    await client.close()


async def test_a_sweep_reads_the_entries_only_once_the_earliest_time_has_come(
    watched: tuple[Agenda, EntryReads],
) -> None:
    agenda, reads = watched
    await agenda.start()
    await agenda.expect({"P1": NOW + timedelta(days=1)})
    assert await agenda.due(NOW) == {}  # read: the start set the earliest time back
    assert reads.count == 1
    assert await agenda.due(NOW) == {}  # not read: P1's time, the earliest, has not come
    assert await agenda.due(NOW + timedelta(hours=23)) == {}
    assert reads.count == 1
    assert set(await agenda.due(NOW + timedelta(days=1))) == {"P1"}
    assert reads.count == 2
    # a writer's earlier entry lowers the earliest time
    await agenda.expect({"P0": NOW - timedelta(hours=1)})
    assert set(await agenda.due(NOW)) == {"P0"}
    assert reads.count == 3


async def test_a_writer_between_a_sweeps_read_and_its_raise_keeps_the_earlier_time(
    watched: tuple[Agenda, EntryReads],
) -> None:
    agenda, _ = watched
    await agenda.start()
    assert await agenda.due(NOW) == {}  # nothing waits: the earliest time goes past all
    read = await agenda.earliest()
    assert read is not None
    assert read.at == NOTHING_WAITS
    await agenda.expect({"P2": NOW})  # between a sweep's read of the time and its raise
    assert not await agenda.raise_earliest(read, NOTHING_WAITS)
    assert set(await agenda.due(NOW)) == {"P2"}


async def test_a_start_makes_the_next_sweep_read_every_entry(
    watched: tuple[Agenda, EntryReads], mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    """An entry whose writer stopped before lowering the earliest time is found by the
    next process."""
    agenda, _ = watched
    await agenda.start()
    await agenda.expect({"P1": NOW + timedelta(days=1)})
    assert await agenda.due(NOW) == {}
    await mongo[database_name]["people_due"].insert_one({"_id": "P9", "at": instant(NOW)})
    assert await agenda.due(NOW) == {}  # this process does not know of it
    db = mongo[database_name]
    restarted = Agenda(db["people_due"], db["people"], db["meta"])
    await restarted.start()
    assert set(await restarted.due(NOW)) == {"P9"}
