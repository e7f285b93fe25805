"""A subject's history as the store keeps it (shared/documents.py): one binary field that
reads back as the same entries, and a history written as an array before still reads."""

from datetime import UTC, datetime

import bson
import pytest

from shared.documents import (
    Write,
    entry_document,
    history_documents,
    stored_from_document,
)
from shared.history import HistoryEntry

ENTRIES = [
    HistoryEntry(
        key="hrms/a:e1",
        type="hr.person.registered",
        time=datetime(2025, 3, 1, 8, 30, 0, 123456, tzinfo=UTC),
        sequence=None,
        arrival=0,
        data={"gender": "female", "unit_id": "D1", "nested": {"list": [1, "two"]}},
    ),
    HistoryEntry(
        key="hrms/a:e2",
        type="hr.position.appointed",
        time=datetime(2025, 4, 1, tzinfo=UTC),
        sequence=7,
        arrival=1,
        data={"unit_id": "D1", "role": "head"},
    ),
]


def test_a_written_history_reads_back_as_the_same_entries() -> None:
    write = Write("P1", 2, {"gender": "female"}, ENTRIES)
    document = write.document
    assert write.document is document  # built once: for the store and for a copy kept
    assert isinstance(document["history"], bytes)
    # as the driver hands it back: through BSON
    read = bson.decode(bson.encode(document))
    stored = stored_from_document(read)
    assert (stored.subject, stored.rev, stored.fields) == ("P1", 3, {"gender": "female"})
    assert stored.history == ENTRIES


def test_a_history_written_as_an_array_still_reads() -> None:
    old = {"_id": "P1", "rev": 1, "history": [entry_document(e) for e in ENTRIES]}
    assert stored_from_document(old).history == ENTRIES
    assert history_documents(old["history"]) == [entry_document(e) for e in ENTRIES]


def test_a_document_without_events_has_no_history() -> None:
    document = Write("U1", 0, {"name": "x"}).document
    assert "history" not in document
    assert stored_from_document(document).history == []


def test_anything_else_in_the_history_field_is_an_error() -> None:
    with pytest.raises(TypeError, match="binary or an array"):
        history_documents("not a history")
