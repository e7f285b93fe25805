"""PyMongo's async API against Motor on the same store: the measurement behind the README's
driver choice. Motor is not a dependency of Parity; run this in a throwaway virtualenv:

    python3.11 -m venv /tmp/motorvenv
    /tmp/motorvenv/bin/pip install motor==3.7.1 pymongo==4.20.0
    /tmp/motorvenv/bin/python bench/driver_choice.py   # a store on 127.0.0.1:27017
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

from motor.motor_asyncio import AsyncIOMotorClient  # type: ignore[import-not-found]
from pymongo import AsyncMongoClient, InsertOne

URL = "mongodb://127.0.0.1:27017/"
DOCUMENTS = 2000


async def measure(client: Any, name: str) -> tuple[float, float, float]:
    """(seconds to insert in bulks of 50, find_one p50 in ms, seconds for 1,000 concurrent)."""
    collection = client["driver_choice"][name]
    await collection.drop()
    docs = [
        {"_id": f"D{i}", "rev": 1, "history": [{"k": j, "x": "y" * 40} for j in range(8)]}
        for i in range(DOCUMENTS)
    ]
    start = time.perf_counter()
    for first in range(0, len(docs), 50):
        chunk = [InsertOne(d) for d in docs[first : first + 50]]
        await collection.bulk_write(chunk, ordered=False)
    inserts = time.perf_counter() - start
    latencies = []
    for doc in docs[:500]:
        start = time.perf_counter()
        await collection.find_one({"_id": doc["_id"]})
        latencies.append(time.perf_counter() - start)
    start = time.perf_counter()
    await asyncio.gather(*(collection.find_one({"_id": d["_id"]}) for d in docs[:1000]))
    concurrent = time.perf_counter() - start
    await client.drop_database("driver_choice")
    return inserts, statistics.median(latencies) * 1000, concurrent


async def main() -> None:
    makers: tuple[tuple[str, Callable[[], Any]], ...] = (
        ("pymongo_async", lambda: AsyncMongoClient(URL)),
        ("motor", lambda: AsyncIOMotorClient(URL)),
    )
    for _round in range(2):
        for name, make in makers:
            client = make()
            inserts, p50, concurrent = await measure(client, name)
            print(
                f"{name:14s} insert {DOCUMENTS} (bulks of 50): {inserts:.2f} s  "
                f"find_one p50: {p50:.2f} ms  1000 concurrent find_one: {concurrent:.2f} s"
            )
            closing = client.close()
            if asyncio.iscoroutine(closing):
                await closing


if __name__ == "__main__":
    asyncio.run(main())
