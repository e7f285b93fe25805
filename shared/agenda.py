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

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pymongo import DeleteOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from shared.documents import instant, parse_instant
from shared.store import Document, WriteRequest, bulk_write, find_by_ids


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


class Agenda:
    """The entries (``entries``) of the subject documents in ``subjects``."""

    def __init__(
        self, entries: AsyncCollection[Document], subjects: AsyncCollection[Document]
    ) -> None:
        self._entries = entries
        self._subjects = subjects

    async def fill_once(self, done: AsyncCollection[Document]) -> None:
        """Entries for documents written before there was an agenda, once per database
        (``done`` records it)."""
        marker = {"_id": f"agenda:{self._entries.name}"}
        if await done.find_one(marker) is not None:
            return
        cursor = self._subjects.find({"next_due": {"$ne": None}}, {"next_due": 1})
        await self.expect({d["_id"]: parse_instant(d["next_due"]) async for d in cursor})
        await done.replace_one(marker, {"filled": True}, upsert=True)

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
