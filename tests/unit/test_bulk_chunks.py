"""How a bulk write is cut into chunks (shared/store.py): never more than
``MAX_BULK_OPERATIONS`` a chunk, and a few requests shared out over the chunks in flight;
and what it counts and what it raises."""

from typing import Any

import pytest
from pymongo import DeleteOne, InsertOne
from pymongo.errors import BulkWriteError

from shared.store import MAX_BULK_OPERATIONS, WriteRequest, bulk_chunks, bulk_write


def requests(count: int) -> list[WriteRequest]:
    return [DeleteOne({"_id": i}) for i in range(count)]


def sizes(count: int, in_flight: int) -> list[int]:
    return [len(chunk) for chunk in bulk_chunks(requests(count), in_flight)]


def test_a_few_requests_are_shared_out_over_the_chunks_in_flight() -> None:
    assert sizes(14, 2) == [7, 7]
    assert sizes(15, 2) == [8, 7]
    assert sizes(1, 2) == [1]
    assert sizes(0, 2) == []


def test_chunks_never_exceed_the_limit() -> None:
    assert sizes(14, 1) == [14]
    assert sizes(90, 2) == [MAX_BULK_OPERATIONS] * 4 + [10]
    assert sizes(41, 1) == [MAX_BULK_OPERATIONS, MAX_BULK_OPERATIONS, 1]


def test_every_request_is_in_one_chunk_in_order() -> None:
    given = requests(33)
    assert [r for chunk in bulk_chunks(given, 2) for r in chunk] == given


class RefusingCollection:
    """Answers every bulk write with the error a server gives: some duplicate keys, and
    perhaps a write-concern error (written, not acknowledged as durable)."""

    name = "people"

    def __init__(self, *, write_concern_error: bool) -> None:
        self.details: dict[str, Any] = {
            "writeErrors": [{"index": 0, "code": 11000, "errmsg": "duplicate key"}],
            "writeConcernErrors": [{"code": 64, "errmsg": "waiting for replication timed out"}]
            if write_concern_error
            else [],
            "nInserted": 1,
            "nMatched": 0,
            "nUpserted": 0,
        }

    async def bulk_write(self, chunk: list[WriteRequest], ordered: bool) -> None:
        raise BulkWriteError(self.details)


async def test_duplicates_are_counted_but_a_write_concern_error_is_raised() -> None:
    inserts: list[WriteRequest] = [InsertOne({"_id": 1}), InsertOne({"_id": 2})]
    clean = RefusingCollection(write_concern_error=False)
    totals = await bulk_write(clean, inserts, duplicates_ok=True)  # type: ignore[arg-type]
    assert (totals.inserted, totals.duplicates) == (1, 1)
    unsure = RefusingCollection(write_concern_error=True)
    with pytest.raises(BulkWriteError):
        await bulk_write(unsure, inserts, duplicates_ok=True)  # type: ignore[arg-type]
