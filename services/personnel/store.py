"""The personnel service's collections: ``units``, ``people``, ``unpublished`` and ``meta``,
and the small ones that spare scans of the big two: ``units_due`` and ``people_due``
(shared/agenda.py) and ``unit_people`` (ties.py).

Every subject document carries its own event history and a revision ``rev``. A write
replaces the whole document, so the events a projection came from are recorded in the same
single-document write as the projection itself (idempotency lives with the data). Writers
of one subject take turns: a partition has one consumer, and in a process the consumers and
the future-event sweep hold one lock. A new subject is inserted; two racing inserts
collide on ``_id``, and the loser reads again and folds again.

A write is announced before it is made: a marker in ``unpublished`` names the subject and
the revision about to be written, and is removed once the change is on Kafka. A writer
killed in between leaves its marker, and the sweep publishes the subject's current state
(see outbox.publish_unpublished). Markers are inserted and removed a batch at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from pymongo import ASCENDING, InsertOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from services.personnel.documents import Document, unit_states_from_documents
from services.personnel.domain.units import UnitDirectory
from services.personnel.recent import RecentPeople
from services.personnel.ties import UnitTies
from shared.agenda import Agenda
from shared.documents import (
    Stored,
    Write,
    instant,
    load_subjects,
    parse_instant,
    save_subjects,
)
from shared.store import bulk_write, find_by_ids, next_counter

NO_HISTORY = {"history": 0}


@dataclass(frozen=True)
class KnownTree:
    """Every unit's document (no history) and the directory derived from them, as of a tree
    version: what this process read or wrote last."""

    version: int
    documents: Mapping[str, Document]
    directory: UnitDirectory


@dataclass(frozen=True)
class Marker:
    """A write announced and not yet known to be on Kafka."""

    id: str
    collection: str
    subject: str
    rev: int
    at: datetime


class PersonnelStore:
    def __init__(self, db: AsyncDatabase[Document], *, recent_people: int = 0) -> None:
        self._db = db
        self.units = db["units"]
        self.people = db["people"]
        self._meta = db["meta"]
        self._unpublished = db["unpublished"]
        # when units and people with future-dated events are next due (shared/agenda.py)
        self._agendas = {
            "units": Agenda(db["units_due"], self.units, self._meta),
            "people": Agenda(db["people_due"], self.people, self._meta),
        }
        self.ties = UnitTies(db["unit_people"], self.people, db["units_ahead"])
        # tells this process's markers from another replica's with the same revision
        self._writer = uuid.uuid4().hex[:12]
        self._tree: KnownTree | None = None
        # people as this process last wrote them (recent.py), ``recent_people`` at most
        self.recent_people = RecentPeople(recent_people, self.people.codec_options)

    async def create_indexes(self) -> None:
        await self.units.create_index([("path", ASCENDING)])
        await self.people.create_index([("home_unit_id", ASCENDING)])

    async def load(self, collection: str, subjects: Iterable[str]) -> dict[str, Stored]:
        return await load_subjects(self._db[collection], subjects)

    async def save(self, collection: str, writes: list[Write]) -> list[str]:
        """Write what is still at its expected revision; returns the subjects that were not.

        Compare-and-set on the revision, not a replace by _id alone: by _id alone two
        replicas lost events (tests/reliability): a replica finishing a batch of a partition
        just revoked, or refolding people for a unit event, wrote over a person another
        replica had just written, and both "landed". (FerretDB's SQLite backend needs the
        patch in deploy/ferretdb/ to use its _id index for that filter.)"""
        return await save_subjects(self._db[collection], writes)

    async def unit_documents(self) -> dict[str, Document]:
        """Every unit's derived fields (no history), read: the organisation is small enough."""
        return {doc["_id"]: doc async for doc in self.units.find({}, NO_HISTORY)}

    async def units_at(self, version: int) -> Mapping[str, Document]:
        """Every unit's derived fields as of tree ``version``: this process's copy when it
        knows that version (every writer of units bumps the version after its writes), or
        else read. A unit batch used to read them all: 27 reads, 1.8 s of the 70.5 s the
        service alone took on the 100-agency province; their cost grows with the units
        times the unit batches (the 290,000-record province has about 8,000 units)."""
        tree = self._tree
        if tree is not None and tree.version == version:
            return tree.documents
        return await self.unit_documents()

    async def tree_version(self) -> int:
        doc = await self._meta.find_one({"_id": "tree"})
        return int(doc["version"]) if doc else 0

    async def bump_tree_version(self) -> int:
        """Tell every replica that the tree changed; the new version."""
        return await next_counter(self._meta, "tree")

    async def unit_directory(self) -> tuple[UnitDirectory, int]:
        """What people folds need about units, and the tree version it is of (re-read only
        when the tree changed)."""
        version = await self.tree_version()
        tree = self._tree
        if tree is not None and tree.version == version:
            return tree.directory, version
        documents = await self.unit_documents()
        directory = UnitDirectory.of(unit_states_from_documents(documents))
        self._tree = KnownTree(version, documents, directory)
        return directory, version

    async def known_directory(self) -> tuple[UnitDirectory, int]:
        """The directory this process knows, without reading the tree version, when it
        knows one. A writer of person events folds on it: it asks ``tree_moved`` after its
        write in any case, and folds again on ``unit_directory`` what it wrote on a tree
        that moved since, another replica's move before the batch included."""
        if self._tree is not None:
            return self._tree.directory, self._tree.version
        return await self.unit_directory()

    async def tree_moved(self, since: int) -> bool:
        """Whether the tree changed since its version ``since``."""
        return await self.tree_version() != since

    async def know_tree(
        self,
        version: int,
        documents: Mapping[str, Document],
        written: Iterable[str],
        directory: UnitDirectory,
    ) -> None:
        """The tree as of ``version``, derived by the writer of that version: the units it
        read (``documents``), with those it ``written`` read again (revisions and fields as
        stored), and the directory it derived. Saves reading every unit again."""
        fresh = await find_by_ids(self.units, written, NO_HISTORY)
        self._tree = KnownTree(version, {**documents, **fresh}, directory)

    async def build_lookups(self) -> None:
        """At the start: agenda entries and ties for the documents written before there were
        any (once per database), and the agendas' earliest times set back (shared/agenda.py)."""
        for agenda in self._agendas.values():
            await agenda.start()
        await self.ties.fill_once(self._meta)
        registered = (await self.unit_directory())[0].registered
        await self.ties.fill_ahead_once(self._meta, set(registered))

    async def expect_due(self, collection: str, due: Mapping[str, datetime]) -> None:
        await self._agendas[collection].expect(due)

    async def due(self, collection: str, now: datetime) -> dict[str, str]:
        """Subjects whose agenda entry is due (subject -> the entry's time)."""
        return await self._agendas[collection].due(now)

    async def reschedule(self, collection: str, seen: Mapping[str, str]) -> None:
        """After the due subjects were folded: their entries follow their documents."""
        await self._agendas[collection].reschedule(seen)

    async def update_placements(self, fields_by_unit: Mapping[str, Document]) -> None:
        """Tree-derived fields of units (paths, effective parents) after a tree change."""
        await bulk_write(
            self.units,
            [
                UpdateOne({"_id": unit_id}, {"$set": fields, "$inc": {"rev": 1}})
                for unit_id, fields in fields_by_unit.items()
            ],
        )

    async def mark_unpublished(
        self, collection: str, revisions: Mapping[str, int], now: datetime
    ) -> dict[str, str]:
        """Announce the writes about to be made (subject -> revision); returns subject ->
        marker id."""
        ids = {s: f"{collection}:{s}:{rev}:{self._writer}" for s, rev in revisions.items()}
        markers: list[InsertOne[Document]] = [
            InsertOne(
                {
                    "_id": ids[subject],
                    "collection": collection,
                    "subject": subject,
                    "rev": rev,
                    "at": instant(now),
                }
            )
            for subject, rev in revisions.items()
        ]
        # a duplicate was left by an attempt that failed before it cleared its markers
        await bulk_write(self._unpublished, markers, duplicates_ok=True)
        return ids

    async def clear_unpublished(self, marker_ids: list[str]) -> None:
        # $in scans the collection on FerretDB, but this one holds only writes in flight
        if marker_ids:
            await self._unpublished.delete_many({"_id": {"$in": marker_ids}})

    async def unpublished(self) -> list[Marker]:
        return [
            Marker(
                id=doc["_id"],
                collection=doc["collection"],
                subject=doc["subject"],
                rev=int(doc["rev"]),
                at=parse_instant(doc["at"]),
            )
            async for doc in self._unpublished.find({})
        ]

    async def count_pending(self) -> tuple[int, int]:
        """(people with a pending unit reference, subjects waiting for a future event).

        A pending reference is a tie to a unit not registered yet. Both are upper bounds:
        ties are never removed (ties.py), and an agenda entry can outlive its event
        (shared/agenda.py)."""
        registered = (await self.unit_directory())[0].registered
        pending = await self.ties.people_tied_to_units_ahead_but(set(registered))
        waiting = sum([await agenda.count() for agenda in self._agendas.values()])
        return pending, waiting
