"""How a subject's event history is stored in MongoDB, for every service that keeps one.

Instants are RFC 3339 strings in UTC with microseconds, which sort as they compare and
survive the round trip exactly (BSON dates keep milliseconds only). A subject document is
``{"_id": subject, "rev": revision, "history": [entries], **derived fields}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import overload

from shared.history import HistoryEntry
from shared.store import Document

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
        history=[entry_from_document(e) for e in doc.get("history", [])],
        fields={k: v for k, v in doc.items() if k not in HISTORY_KEYS},
    )


def empty(subject: str) -> Stored:
    """A subject not stored yet."""
    return Stored(subject=subject, rev=0, history=[], fields={})
