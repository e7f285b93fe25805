"""When subjects next need looking at: a small collection instead of a scan of big ones.

A subject document with a future-dated event carries ``next_due``. Finding the due ones
with ``find({"next_due": {"$lte": now}})`` reads every document of the collection with its
whole history on FerretDB (its SQLite backend filters nothing but ``_id`` in SQL), and a
sweep does it every second. The agenda keeps one small entry ``{_id: subject, at}`` per
subject that may be due, so the sweep reads only those.

What keeps it safe: an entry is written *before* the subject document that needs it, so a
writer that dies in between leaves an entry too many, never one too few. An entry too many
costs one fold that changes nothing. After a sweep has looked at the due subjects, their
entries are moved to each document's new ``next_due`` or removed, each on condition that
nobody changed the entry meanwhile (another replica may have just written a later one).

The earliest time. Even the entries were read by every sweep, every second, and on
FerretDB a filter on ``at`` reads the whole collection: 21 ms for 700 entries, 57 ms for
2,000 here, against 1.3 ms for one document by ``_id``. A document in the service's
``meta`` keeps a time no later than any entry's, with a version: a sweep reads that one
document, and reads the entries only once that time has come. What keeps it safe:

- a writer writes its entries, then lowers the time to theirs (``$min``) and bumps the
  version; a writer that dies in between has not committed its events, which come again
  (a sweep's own folds leave their due entries in place until ``reschedule``);
- a sweep that read the entries and found none due raises the time to the earliest entry's,
  on condition that the version is the one it read before them: a writer in between makes it
  keep the lower time;
- a process's start (``start``) sets the time back to the beginning, so that its first sweep
  reads every entry, whatever a process stopped before it left undone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import DeleteOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.documents import instant, parse_instant
from shared.store import Document, WriteRequest, bulk_write, find_by_ids, once_per_database


def entries_to_expect(
    writes: Iterable[tuple[str, Mapping[str, Any], Mapping[str, Any] | None]],
) -> dict[str, datetime]:
    """The entries to write before the documents: for each (subject, fields about to be
    written, fields stored before), the new ``next_due`` where there is one and it changed."""
    due = {}
    for subject, fields, before in writes:
        at = fields.get("next_due")
        if at and (before is None or before.get("next_due") != at):
            due[subject] = parse_instant(at)
    return due


# The earliest time when no entry waits: after every instant (they sort as they compare).
NOTHING_WAITS = "9999-12-31T23:59:59.999999+00:00"
# The earliest time that makes the next sweep read every entry: before every instant.
READ_ALL = ""


@dataclass(frozen=True)
class Earliest:
    """The earliest time as read: no entry is due before ``at``; ``version`` counts the
    writers that lowered it."""

    at: str
    version: int


class Agenda:
    """The entries (``entries``) of the subject documents in ``subjects``, and their
    earliest time in ``meta``."""

    def __init__(
        self,
        entries: AsyncCollection[Document],
        subjects: AsyncCollection[Document],
        meta: AsyncCollection[Document],
    ) -> None:
        self._entries = entries
        self._subjects = subjects
        self._meta = meta
        self._earliest = {"_id": f"earliest:{entries.name}"}

    async def start(self) -> None:
        """At a process's start, before its consumers and sweeps: entries written before
        there was an agenda (once per database), and the earliest time set back so that the
        next sweep reads every entry."""

        async def fill() -> None:
            cursor = self._subjects.find({"next_due": {"$ne": None}}, {"next_due": 1})
            await self.expect({d["_id"]: parse_instant(d["next_due"]) async for d in cursor})

        await once_per_database(self._meta, f"agenda:{self._entries.name}", fill)
        try:
            await self._meta.insert_one({**self._earliest, "at": READ_ALL, "version": 0})
        except DuplicateKeyError:
            await self._lower_earliest(READ_ALL)

    async def expect(self, due: Mapping[str, datetime]) -> None:
        """Make sure each subject is looked at when its time given comes."""
        requests: list[WriteRequest] = [
            ReplaceOne({"_id": subject}, {"at": instant(at)}, upsert=True)
            for subject, at in due.items()
        ]
        await bulk_write(self._entries, requests)
        if due:
            await self._lower_earliest(instant(min(due.values())))

    async def due(self, now: datetime) -> dict[str, str]:
        """The subjects due by ``now``, with their entries' times as stored. Reads the
        entries only when the earliest time has come (or there is none: an agenda whose
        process did not ``start``)."""
        earliest = await self.earliest()
        if earliest is not None and earliest.at > instant(now):
            return {}
        entries = {doc["_id"]: doc["at"] async for doc in self._entries.find({})}
        due = {subject: at for subject, at in entries.items() if at <= instant(now)}
        if not due and earliest is not None:
            await self.raise_earliest(earliest, min(entries.values(), default=NOTHING_WAITS))
        return due

    async def earliest(self) -> Earliest | None:
        doc = await self._meta.find_one(self._earliest)
        return Earliest(doc["at"], int(doc["version"])) if doc is not None else None

    async def raise_earliest(self, read: Earliest, at: str) -> bool:
        """Set the earliest time to ``at``, the earliest entry's read after ``read``, unless
        a writer lowered it since; whether it was set."""
        unchanged = {**self._earliest, "version": read.version}
        result = await self._meta.update_one(unchanged, {"$set": {"at": at}})
        return result.matched_count == 1

    async def _lower_earliest(self, at: str) -> None:
        await self._meta.update_one(self._earliest, {"$min": {"at": at}, "$inc": {"version": 1}})

    async def reschedule(self, seen: Mapping[str, str]) -> None:
        """After the subjects ``seen`` by ``due`` were folded: each entry moves to its
        document's ``next_due``, or goes if there is none."""
        docs = await find_by_ids(self._subjects, seen, {"next_due": 1})
        requests: list[WriteRequest] = []
        for subject, at in seen.items():
            later = docs.get(subject, {}).get("next_due")
            if later is None:
                requests.append(DeleteOne({"_id": subject, "at": at}))
            elif later != at:
                moved = {"$set": {"at": instant(parse_instant(later))}}
                requests.append(UpdateOne({"_id": subject, "at": at}, moved))
        await bulk_write(self._entries, requests)

    async def count(self) -> int:
        """Subjects waiting (an upper bound: an entry outlives its event until it is due)."""
        return await self._entries.count_documents({})
