"""shared/store.py on the real FerretDB: what its work-arounds are for."""

from __future__ import annotations

import asyncio

import pytest
from pymongo import AsyncMongoClient, InsertOne, UpdateOne
from pymongo.errors import BulkWriteError

from shared.store import READ_BATCH, Document, bulk_write, find_by_ids


async def test_writers_racing_to_upsert_the_same_new_documents_both_succeed(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    """Two writers upserting the same new documents at once: FerretDB answers the loser
    without ``nModified`` and PyMongo raises KeyError (a plain PyMongo bulk did, in 20 of 60
    tries here); bulk_write writes the chunk again. Whichever writer came last wins."""
    collection = mongo[database_name]["unit_status"]
    for round_ in range(20):
        ids = [f"U-{round_}-{i}" for i in range(20)]

        def upserts(writer: int, ids: list[str] = ids) -> list[UpdateOne]:
            return [UpdateOne({"_id": i}, {"$set": {"writer": writer}}, upsert=True) for i in ids]

        await asyncio.gather(bulk_write(collection, upserts(1)), bulk_write(collection, upserts(2)))
        stored = {d["_id"]: d["writer"] async for d in collection.find({"_id": {"$in": ids}})}
        assert set(stored) == set(ids)
        assert set(stored.values()) <= {1, 2}


async def test_find_by_ids_reads_every_stored_id_across_batches(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    """More ids than one ``$in`` batch, some not stored, asked twice: each stored one comes
    back once, with the projection applied (the FerretDB patch pushes ``$in`` down to SQL;
    a lost or doubled row would show here)."""
    collection = mongo[database_name]["people"]
    stored = [f"P-{i:04d}" for i in range(0, 3 * READ_BATCH, 2)]
    await collection.insert_many([{"_id": i, "name": i.lower(), "rev": 1} for i in stored])
    wanted = [f"P-{i:04d}" for i in range(3 * READ_BATCH)] * 2

    found = await find_by_ids(collection, wanted, {"rev": 1})

    assert sorted(found) == stored
    assert all(d == {"_id": i, "rev": 1} for i, d in found.items())


async def test_id_in_queries_keep_their_other_conditions_and_id_types(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    """What the patch must not change: an ``$in`` on ``_id`` beside other conditions, with
    ids of other types, or empty, answers as MongoDB does."""
    collection = mongo[database_name]["units"]
    await collection.insert_many([{"_id": f"U-{i}", "level": i % 3} for i in range(30)])
    await collection.insert_many([{"_id": 7, "level": 0}, {"_id": 8.5, "level": 1}])

    async def ids(query: Document) -> list[Document]:
        return await collection.find(query, {"_id": 1}).to_list()

    level_0 = await ids({"_id": {"$in": ["U-0", "U-1", "U-3"]}, "level": 0})
    assert sorted(d["_id"] for d in level_0) == ["U-0", "U-3"]
    mixed = await ids({"_id": {"$in": [7, "U-2", 8.5]}})
    assert sorted(map(str, (d["_id"] for d in mixed))) == ["7", "8.5", "U-2"]
    assert await ids({"_id": {"$in": []}}) == []
    assert [d["_id"] for d in await ids({"_id": {"$nin": [f"U-{i}" for i in range(30)]}})] == [
        7,
        8.5,
    ]


async def test_chunks_in_flight_together_count_every_write_and_raise_a_failure(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    collection = mongo[database_name]["chunks"]
    await collection.insert_many([{"_id": f"d{i}"} for i in range(0, 90, 9)])  # 10 taken
    inserts = [InsertOne({"_id": f"d{i}"}) for i in range(90)]  # 5 chunks
    totals = await bulk_write(collection, inserts, duplicates_ok=True, in_flight=2)
    assert (totals.inserted, totals.duplicates) == (80, 10)
    assert await collection.count_documents({}) == 90

    again = [InsertOne({"_id": "d0"})] + [InsertOne({"_id": f"e{i}"}) for i in range(39)]
    with pytest.raises(BulkWriteError):
        await bulk_write(collection, again, in_flight=2)  # d0 is taken: not counted, raised
