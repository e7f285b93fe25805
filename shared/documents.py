"""How a subject's event history is stored in MongoDB, for every service that keeps one.

Instants are RFC 3339 strings in UTC with microseconds, which sort as they compare and
survive the round trip exactly (BSON dates keep milliseconds only). A subject document is
``{"_id": subject, "rev": revision, "history": <entries>, **derived fields}``.

The entries are one BSON document ``{"entries": [...]}`` in a binary field: only the
service that folds them reads them, and FerretDB stores every field of a document with its
type, so an array of nested entries costs it on every write and read. Replacing people with
eight entries took 0.38 ms a document this way against 0.99 ms as an array, and reading
them 0.19 against 0.52 ms; the province end to end went from 941-954 to 1,044-1,077
events/s. A history written as an array (before this) is still read; the next write of
its subject stores it as binary. ``history_documents`` reads either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import overload

import bson
from bson import Binary
from pymongo import InsertOne, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection

from shared.history import HistoryEntry
from shared.store import WRITE_CHUNKS_IN_FLIGHT, Document, bulk_write, find_by_ids

HISTORY_KEYS = ("_id", "rev", "history")  # what a subject document holds besides its fields


@overload
def instant(value: datetime) -> str: ...


@overload
def instant(value: datetime | None) -> str | None: ...


def instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def parse_instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def entry_document(entry: HistoryEntry) -> Document:
    return {
        "key": entry.key,
        "type": entry.type,
        "time": instant(entry.time),
        "sequence": entry.sequence,
        "arrival": entry.arrival,
        "data": entry.data,
    }


def entry_from_document(doc: Document) -> HistoryEntry:
    return HistoryEntry(
        key=doc["key"],
        type=doc["type"],
        time=parse_instant(doc["time"]),
        sequence=doc["sequence"],
        arrival=doc["arrival"],
        data=doc["data"],
    )


def history_value(entries: Iterable[HistoryEntry]) -> Binary:
    """A history as stored."""
    return binary_entries([entry_document(e) for e in entries])


def packed(document: Document) -> Binary:
    """A nested document stored as one binary field (BSON), for a field only Parity's code
    reads: FerretDB stores every nested field with its type, at a cost on every write
    (see above; the indicator service's history records likewise)."""
    return Binary(bson.encode(document))


def unpacked(value: object) -> Document:
    """A field written by :func:`packed`, or the document itself as written before it."""
    if isinstance(value, bytes):  # PyMongo reads a generic binary field as bytes
        return dict(bson.decode(value))
    if isinstance(value, dict):
        return value
    raise TypeError(f"a packed document is binary or a document, not {type(value).__name__}")


def binary_entries(documents: list[Document]) -> Binary:
    return packed({"entries": documents})


def history_documents(value: object) -> list[Document]:
    """The entries of a stored history, as documents (binary, or an array as written before)."""
    if isinstance(value, bytes):
        return list(unpacked(value)["entries"])
    if isinstance(value, list):
        return value
    if value is None:
        return []
    raise TypeError(f"a history is binary or an array, not {type(value).__name__}")


@dataclass(frozen=True)
class Stored:
    """A subject document as read: its revision (0 if new), history and derived fields."""

    subject: str
    rev: int
    history: list[HistoryEntry]
    fields: Document


def stored_from_document(doc: Document) -> Stored:
    return Stored(
        subject=doc["_id"],
        rev=int(doc.get("rev", 0)),
        history=[entry_from_document(e) for e in history_documents(doc.get("history"))],
        fields={k: v for k, v in doc.items() if k not in HISTORY_KEYS},
    )


def empty(subject: str) -> Stored:
    """A subject not stored yet."""
    return Stored(subject=subject, rev=0, history=[], fields={})


@dataclass(frozen=True)
class Write:
    """A subject document to store on condition that it is still at ``expected_rev``."""

    subject: str
    expected_rev: int
    fields: Document
    history: list[HistoryEntry] | None = None  # None: a document without events

    @cached_property
    def document(self) -> Document:
        """The document as stored: built once, for the store and for any copy kept of it."""
        doc: Document = {"_id": self.subject, "rev": self.expected_rev + 1, **self.fields}
        if self.history is not None:
            doc["history"] = history_value(self.history)
        return doc


async def load_subjects(
    collection: AsyncCollection[Document],
    subjects: Iterable[str],
    projection: Document | None = None,
) -> dict[str, Stored]:
    docs = await find_by_ids(collection, subjects, projection)
    return {subject: stored_from_document(doc) for subject, doc in docs.items()}


async def save_subjects(collection: AsyncCollection[Document], writes: list[Write]) -> list[str]:
    """Compare-and-set: a new subject is inserted (a racing insert collides on ``_id``), an
    existing one replaced on ``_id`` and the revision read. Returns the subjects that were
    not written as given: the caller reads them again and folds again."""
    if not writes:
        return []
    operations: list[InsertOne[Document] | ReplaceOne[Document]] = [
        InsertOne(w.document)
        if w.expected_rev == 0
        else ReplaceOne({"_id": w.subject, "rev": w.expected_rev}, w.document)
        for w in writes
    ]
    # one write per subject: the chunks may go at once
    totals = await bulk_write(
        collection, operations, duplicates_ok=True, in_flight=WRITE_CHUNKS_IN_FLIGHT
    )
    if totals.inserted + totals.matched == len(writes):
        return []
    current = await load_subjects(collection, (w.subject for w in writes))
    return sorted(w.subject for w in writes if not _landed(w, current.get(w.subject)))


def _landed(write: Write, stored: Stored | None) -> bool:
    return (
        stored is not None
        and stored.rev == write.expected_rev + 1
        and [e.key for e in stored.history] == [e.key for e in write.history or []]
        and stored.fields == write.fields
    )


def new_anomalies(before: Document, after: Document, key: str = "anomalies") -> list[Document]:
    """The anomalies (in field ``key``) of a subject's new derived fields that its stored
    ones lack (an anomaly is its kind and the key of the event it is about): each is counted
    once, when first written, however often its subject is folded again."""
    known = {(a["kind"], a["event_key"]) for a in before.get(key, [])}
    return [a for a in after.get(key, []) if (a["kind"], a["event_key"]) not in known]
