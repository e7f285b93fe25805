"""The store's operations as Parity issues them, timed on one or more stores (FerretDB on
SQLite against FerretDB on PostgreSQL, say):

    python -m bench.store_backends --url mongodb://127.0.0.1:27031/ --url mongodb://127.0.0.1:27032/

For each collection size, on a fresh collection of person documents (a person's event
history as the personnel projection keeps it, as bench/ceilings.py builds them, plus a few
derived fields; about 1.3 KB of BSON each):

- insert_many: every document, in chunks of ``MAX_BULK_OPERATIONS`` (as shared.store writes);
- replace_id: bulk ReplaceOne by ``{"_id"}`` (shared.store.bulk_write chunks);
- replace_cas: bulk ReplaceOne by ``{"_id", "rev"}``, the compare-and-set of
  services/personnel/store.py save;
- find_id: find_one by ``_id``, 8 concurrent (shared.store.find_by_ids);
- update_set: update_one ``{"$set"}`` by ``_id``, one call at a time;
- count: count_documents on a non-``_id`` field (``gender``), one call at a time;
- delete_id: delete_one by ``_id``, one call at a time.

All but insert_many and count touch ``--ops`` documents picked at random (the same ones on
every store). Every result is checked (a replace that matched nothing fails the run).
Figures are operations (documents) per second, the median of ``--rounds`` rounds; each round
measures every size on every store in turn, so a load from elsewhere on the machine falls on
all of them alike.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from pymongo import AsyncMongoClient, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection

from bench.ceilings import projection_documents
from shared.store import (
    MAX_BULK_OPERATIONS,
    Document,
    WriteRequest,
    bulk_write,
    find_by_ids,
    make_mongo_client,
)
from tests.generator import generate_province

OPERATIONS = ("insert_many", "replace_id", "replace_cas", "find_id", "update_set", "count")
ALL_OPERATIONS = (*OPERATIONS, "delete_id")
COUNT_CALLS = 20


@dataclass(frozen=True)
class Timing:
    operations: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds if self.seconds else float("inf")


def person_documents(count: int, seed: int) -> list[Document]:
    """``count`` person documents: each generated person's latest document, reused under
    new ids when more are wanted, with the derived fields a count filters on."""
    people: dict[str, Document] = {}
    for collection, document in projection_documents(
        generate_province(seed).records, history_as_array=True
    ):
        if collection == "people":
            people[document["_id"]] = document
    bases = list(people.values())
    documents: list[Document] = []
    for number in range(count):
        base = bases[number % len(bases)]
        registered: Document = next(
            (e["data"] for e in base["history"] if e["type"] == "hr.person.registered"), {}
        )
        documents.append(
            {
                **base,
                "_id": f"{base['_id']}-{number // len(bases)}",
                "gender": registered.get("gender"),
                "category": registered.get("category"),
                "home_unit_id": registered.get("unit_id"),
            }
        )
    return documents


async def timed(operations: int, work: Callable[[], Awaitable[None]]) -> Timing:
    started = time.perf_counter()
    await work()
    return Timing(operations, time.perf_counter() - started)


def expect(what: str, got: int, wanted: int) -> None:
    if got != wanted:
        raise RuntimeError(f"{what}: {got}, expected {wanted}")


async def measure(
    collection: AsyncCollection[Document], documents: Sequence[Document], picked: Sequence[str]
) -> dict[str, Timing]:
    """Time each operation on ``collection`` (dropped first), in the order listed above."""
    await collection.drop()
    by_id = {d["_id"]: d for d in documents}
    timings: dict[str, Timing] = {}

    async def insert() -> None:
        for start in range(0, len(documents), MAX_BULK_OPERATIONS):
            chunk = documents[start : start + MAX_BULK_OPERATIONS]
            result = await collection.insert_many(chunk, ordered=False)
            expect("inserted", len(result.inserted_ids), len(chunk))

    async def replace(with_revision: bool) -> None:
        requests: list[WriteRequest] = []
        for i in picked:
            old = by_id[i]
            new = {**old, "rev": old["rev"] + 1}
            filter_ = {"_id": i, "rev": old["rev"]} if with_revision else {"_id": i}
            requests.append(ReplaceOne(filter_, {k: v for k, v in new.items() if k != "_id"}))
            by_id[i] = new
        totals = await bulk_write(collection, requests)
        expect("replaced", totals.matched, len(requests))

    async def find() -> None:
        found = await find_by_ids(collection, picked)
        expect("found", len(found), len(picked))

    async def update() -> None:
        for n, i in enumerate(picked):
            result = await collection.update_one({"_id": i}, {"$set": {"seen": n}})
            expect("updated", result.matched_count, 1)

    women = sum(1 for d in documents if d["gender"] == "female")

    async def count() -> None:
        for _ in range(COUNT_CALLS):
            expect("women", await collection.count_documents({"gender": "female"}), women)

    async def delete() -> None:
        for i in picked:
            result = await collection.delete_one({"_id": i})
            expect("deleted", result.deleted_count, 1)

    timings["insert_many"] = await timed(len(documents), insert)
    timings["replace_id"] = await timed(len(picked), lambda: replace(False))
    timings["replace_cas"] = await timed(len(picked), lambda: replace(True))
    timings["find_id"] = await timed(len(picked), find)
    timings["update_set"] = await timed(len(picked), update)
    timings["count"] = await timed(COUNT_CALLS, count)
    timings["delete_id"] = await timed(len(picked), delete)
    await collection.drop()
    return timings


Results = dict[str, dict[int, dict[str, list[Timing]]]]  # url -> size -> operation -> rounds


async def run(
    urls: Sequence[str], sizes: Sequence[int], ops: int, seed: int, rounds: int
) -> Results:
    everyone = person_documents(max(sizes), seed)
    rng = random.Random(seed)
    picks = {s: rng.sample([d["_id"] for d in everyone[:s]], min(ops, s)) for s in sizes}
    results: Results = {u: {s: {o: [] for o in ALL_OPERATIONS} for s in sizes} for u in urls}
    database = f"bench_store_backends_{os.getpid()}"
    clients: dict[str, AsyncMongoClient[Document]] = {}
    try:
        for url in urls:
            clients[url] = make_mongo_client(url, app_name="bench-store")
            await clients[url].admin.command("ping")
        for round_ in range(1, rounds + 1):
            for size in sizes:
                for url in urls:
                    print(f"round {round_}: {url} {size} documents", flush=True)
                    collection = clients[url][database]["people"]
                    timings = await measure(collection, everyone[:size], picks[size])
                    for operation, timing in timings.items():
                        results[url][size][operation].append(timing)
                    print(
                        "  " + "  ".join(f"{o} {t.per_second:,.1f}/s" for o, t in timings.items()),
                        flush=True,
                    )
    finally:
        for client in clients.values():
            await client.drop_database(database)
            await client.close()
    return results


def table(results: Results) -> str:
    urls = list(results)
    header = ["operation", "docs", *(f"ops/s {u}" for u in urls)]
    if len(urls) == 2:
        header.append("2nd/1st")
    rows = [header]
    sizes = sorted({s for per_url in results.values() for s in per_url})
    for operation in ALL_OPERATIONS:
        for size in sizes:
            rates = [
                statistics.median(t.per_second for t in results[u][size][operation]) for u in urls
            ]
            row = [operation, str(size), *(f"{r:,.0f}" if r >= 100 else f"{r:.1f}" for r in rates)]
            if len(urls) == 2:
                row.append(f"{rates[1] / rates[0]:.1f}x")
            rows.append(row)
    widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", action="append", required=True, help="a store (repeatable)")
    parser.add_argument("--sizes", default="1000,5000", help="collection sizes, comma-separated")
    parser.add_argument("--ops", type=int, default=500, help="documents per timed operation")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (the median is shown)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = asyncio.run(run(args.url, sizes, args.ops, args.seed, args.rounds))
    print(table(results))


if __name__ == "__main__":
    main()
