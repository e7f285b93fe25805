"""How a bulk write is cut into chunks (shared/store.py): never more than
``MAX_BULK_OPERATIONS`` a chunk, and a few requests shared out over the chunks in flight."""

from pymongo import DeleteOne

from shared.store import MAX_BULK_OPERATIONS, WriteRequest, bulk_chunks


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
