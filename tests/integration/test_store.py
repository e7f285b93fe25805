"""shared/store.py on the real FerretDB: what its work-arounds are for."""

from __future__ import annotations

import asyncio

from pymongo import AsyncMongoClient, UpdateOne

from shared.store import Document, bulk_write


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
