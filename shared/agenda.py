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
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pymongo import DeleteOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from shared.documents import instant
from shared.store import Document, WriteRequest, bulk_write


class Agenda:
    def __init__(self, entries: AsyncCollection[Document]) -> None:
        self._entries = entries

    async def expect(self, due: Mapping[str, datetime]) -> None:
        """Make sure each subject is looked at when its time given comes."""
        requests: list[WriteRequest] = [
            ReplaceOne({"_id": subject}, {"at": instant(at)}, upsert=True)
            for subject, at in due.items()
        ]
        await bulk_write(self._entries, requests)

    async def due(self, now: datetime) -> dict[str, str]:
        """The subjects due by ``now``, with their entries' times as stored."""
        cursor = self._entries.find({"at": {"$lte": instant(now)}})
        return {doc["_id"]: doc["at"] async for doc in cursor}

    async def reschedule(
        self, seen: Mapping[str, str], next_due: Mapping[str, datetime | None]
    ) -> None:
        """Entries ``seen`` by ``due`` move to each subject's ``next_due``, or go (None)."""
        requests: list[WriteRequest] = []
        for subject, at in seen.items():
            later = next_due.get(subject)
            if later is None:
                requests.append(DeleteOne({"_id": subject, "at": at}))
            elif instant(later) != at:
                moved = {"$set": {"at": instant(later)}}
                requests.append(UpdateOne({"_id": subject, "at": at}, moved))
        await bulk_write(self._entries, requests)

    async def count(self) -> int:
        return await self._entries.count_documents({})
