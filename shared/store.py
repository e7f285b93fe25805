"""MongoDB access through PyMongo's native async client (the maintained successor of Motor).

Code here and in the services uses only what MongoDB 7 and FerretDB 1.24 both support:
single-document atomic writes, bulk writes, indexes, simple aggregations.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import (
    AsyncMongoClient,
    DeleteMany,
    DeleteOne,
    InsertOne,
    ReplaceOne,
    ReturnDocument,
    UpdateMany,
    UpdateOne,
)
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError
from pymongo.results import BulkWriteResult

from shared.aio import gather_all

log = logging.getLogger("parity.store")

Document = dict[str, Any]


# No operation waits forever: a stalled store makes the handler fail, and the batch comes
# again (the consumer's ack policy), instead of a partition silently stuck.
OPERATION_TIMEOUT_MS = 60_000


def make_mongo_client(url: str, *, app_name: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(
        url,
        tz_aware=True,
        appname=app_name,
        serverSelectionTimeoutMS=10_000,
        timeoutMS=OPERATION_TIMEOUT_MS,
    )


def database(client: AsyncMongoClient[Document], name: str) -> AsyncDatabase[Document]:
    return client[name]


async def ping(client: AsyncMongoClient[Document]) -> bool:
    try:
        await client.admin.command("ping")
    except Exception:  # any failure means "not healthy"; the caller reports it
        return False
    return True


# FerretDB 1.24 (SQLite) stalls on a bulk write of about 100 updates or more (a 400-document
# bulk never returned, and the server answered nothing else until restarted), and a bulk of
# 50 stalled once while three services' bulks and reads ran at the same time. The cause:
# its update handler closes each statement's query only when the whole command ends
# (a deferred close in a loop, internal/handler/msg_update.go), each open query holds one of
# its 100 pooled SQLite connections, and each statement's write needs one more. Closing
# each query at once does end the stall (1,000 updates in one command returned), but made
# every update slower: 2,300-2,700 replaces/s against 3,900-4,300 in chunks of 20, two in
# flight, and no chunk size won that back (3,000/s at 200), for a reason not found. So the
# FerretDB built here keeps the handler as it is, bulks are cut into chunks of 20, and at
# most 8 reads by _id are in flight.
MAX_BULK_OPERATIONS = 20
# Chunks of one bulk write sent at once where its requests name different documents.
WRITE_CHUNKS_IN_FLIGHT = 2
MAX_CONCURRENT_READS = 8
READ_BATCH = 100  # ids per {"_id": {"$in": ...}} read (the FerretDB patch pushes down <= 1000)
DUPLICATE_KEY = 11000
REPLACE_NEWER_ATTEMPTS = 8
UPSERT_RACE_ATTEMPTS = 3

WriteRequest = (
    InsertOne[Document] | ReplaceOne[Document] | UpdateOne | UpdateMany | DeleteOne | DeleteMany
)


@dataclass
class BulkTotals:
    inserted: int = 0
    matched: int = 0
    upserted: int = 0
    duplicates: int = 0  # inserts (or upserts) that found the _id taken


async def bulk_write(
    collection: AsyncCollection[Document],
    requests: Sequence[WriteRequest],
    *,
    duplicates_ok: bool = False,
    in_flight: int = 1,
) -> BulkTotals:
    """An unordered bulk write in chunks, ``in_flight`` of them sent at once. With
    ``duplicates_ok``, a duplicate ``_id`` is counted, not raised (the document is already
    there: an idempotent insert).

    More than one chunk in flight is for requests that each name a different document: the
    chunks land in any order. Two chunks of 20 replaces at once wrote about 1.45 times as
    many documents a second as one on FerretDB here (a bigger chunk stalls, see above).
    Fewer requests than fill them are shared out, so that they go at once too: 14 replaces
    of people took 7.3 ms as two chunks of 7 against 9.2 ms as one."""
    totals = BulkTotals()
    chunks = bulk_chunks(requests, in_flight)
    for start in range(0, len(chunks), in_flight):
        sent = chunks[start : start + in_flight]
        outcomes: list[BulkTotals] = await gather_all(
            *(_write_counted(collection, chunk, duplicates_ok) for chunk in sent)
        )
        for outcome in outcomes:
            totals.inserted += outcome.inserted
            totals.matched += outcome.matched
            totals.upserted += outcome.upserted
            totals.duplicates += outcome.duplicates
    return totals


def bulk_chunks(requests: Sequence[WriteRequest], in_flight: int) -> list[list[WriteRequest]]:
    """Chunks of at most ``MAX_BULK_OPERATIONS``, no more of them than ``in_flight`` when
    fewer requests than that would fill them."""
    size = min(MAX_BULK_OPERATIONS, max(1, -(-len(requests) // in_flight)))
    return [list(requests[start : start + size]) for start in range(0, len(requests), size)]


async def _write_counted(
    collection: AsyncCollection[Document], chunk: list[WriteRequest], duplicates_ok: bool
) -> BulkTotals:
    try:
        result = await _write_chunk(collection, chunk)
    except BulkWriteError as error:
        errors = error.details["writeErrors"]
        if not duplicates_ok or any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        if error.details.get("writeConcernErrors"):  # written, perhaps not durably: retry
            raise
        details = error.details
        return BulkTotals(
            inserted=details.get("nInserted", 0),
            matched=details.get("nMatched", 0),
            upserted=details.get("nUpserted", 0),
            duplicates=len(errors),
        )
    return BulkTotals(
        inserted=result.inserted_count,
        matched=result.matched_count,
        upserted=result.upserted_count,
    )


async def _write_chunk(
    collection: AsyncCollection[Document], chunk: list[WriteRequest]
) -> BulkWriteResult:
    """One bulk command. FerretDB 1.24 answers an upsert that lost a race to insert the same
    ``_id`` (two writers upserting a new document at once) with an error that lacks
    ``nModified``, and PyMongo's bulk API then raises ``KeyError`` instead of reporting a
    duplicate. The other writer's document is there by then, so a chunk of upserts,
    updates, replaces and deletes (all by ``_id`` here, all idempotent) is written again."""
    for attempt in range(UPSERT_RACE_ATTEMPTS):
        try:
            return await collection.bulk_write(chunk, ordered=False)
        except KeyError as error:
            inserts = any(isinstance(r, InsertOne) for r in chunk)
            last = attempt + 1 == UPSERT_RACE_ATTEMPTS
            if error.args != ("nModified",) or inserts or last:
                raise
            log.info("%s: an upsert lost a race; writing the chunk again", collection.name)
    raise AssertionError("unreachable")


async def replace_newer(
    collection: AsyncCollection[Document],
    documents: Sequence[Document],
    *,
    revision_field: str,
    expected: Mapping[Any, int] | None = None,
) -> None:
    """Store each document unless one with the same or a higher revision is there.

    ``expected``: the revisions the caller believes are stored (an ``_id`` absent from it:
    not stored). The first attempt then writes on those without reading; whatever they get
    wrong is read and written again like any lost race.

    Read, then insert or replace on ``_id`` and the revision read. Not the single
    conditional upsert it could be on MongoDB: FerretDB 1.24 answers an upsert whose filter
    misses an existing ``_id`` without the ``nModified`` field, and PyMongo's bulk API
    then fails with KeyError. Of documents given with the same ``_id``, only the highest
    revision is written (two replaces on the revision read would leave the first one). A
    writer racing us makes our replace match nothing or our insert collide: we read again
    and write what is still older than ours.
    """
    newest: dict[Any, Document] = {}
    for document in documents:
        kept = newest.get(document["_id"])
        if kept is None or kept[revision_field] < document[revision_field]:
            newest[document["_id"]] = document
    for _ in range(REPLACE_NEWER_ATTEMPTS):
        if not newest:
            return
        if expected is not None:
            stored = {i: expected[i] for i in newest if i in expected}
            expected = None  # believed once; a second attempt reads
        else:
            found = await find_by_ids(collection, newest, {revision_field: 1})
            stored = {i: d.get(revision_field, -1) for i, d in found.items()}
        requests: list[WriteRequest] = []
        for document in newest.values():
            known = stored.get(document["_id"])
            if known is None:
                requests.append(InsertOne(document))
            elif known < document[revision_field]:
                # -1: a document written before it had the field (revisions are never
                # negative), which a filter on -1 would not match
                at = {"$exists": False} if known == -1 else known
                filter_ = {"_id": document["_id"], revision_field: at}
                replacement = {k: v for k, v in document.items() if k != "_id"}
                requests.append(ReplaceOne(filter_, replacement))
        totals = await bulk_write(
            collection, requests, duplicates_ok=True, in_flight=WRITE_CHUNKS_IN_FLIGHT
        )
        if totals.inserted + totals.matched == len(requests):
            return
    raise RuntimeError(f"{collection.name}: documents kept changing under replace_newer")


async def find_by_ids(
    collection: AsyncCollection[Document],
    ids: Iterable[str],
    projection: Document | None = None,
) -> dict[str, Document]:
    """The documents with these ``_id`` values, read ``READ_BATCH`` ids per query.

    ``{"_id": {"$in": [...]}}`` is answered from the ``_id`` index by MongoDB, and by
    FerretDB's SQLite backend with the project's patch (deploy/ferretdb/); FerretDB
    unpatched reads and parses the whole collection for it.
    """
    wanted = list(dict.fromkeys(ids))
    batches = [wanted[start : start + READ_BATCH] for start in range(0, len(wanted), READ_BATCH)]
    found: dict[str, Document] = {}
    for start in range(0, len(batches), MAX_CONCURRENT_READS):
        for docs in await gather_all(
            *(
                _find_in(collection, batch, projection)
                for batch in batches[start : start + MAX_CONCURRENT_READS]
            )
        ):
            found.update((d["_id"], d) for d in docs)
    return found


async def _find_in(
    collection: AsyncCollection[Document], ids: list[str], projection: Document | None
) -> list[Document]:
    return await collection.find({"_id": {"$in": ids}}, projection).to_list()


async def next_counter(collection: AsyncCollection[Document], name: str) -> int:
    """Add one to the counter ``name`` (a document ``{_id: name, version}``) and return it:
    a number above every one returned before, to any process."""
    doc = await collection.find_one_and_update(
        {"_id": name}, {"$inc": {"version": 1}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    if doc is None:  # an upsert returning the document after it always has one
        raise RuntimeError(f"{collection.name}: the counter {name} was not written")
    return int(doc["version"])


async def once_per_database(
    done: AsyncCollection[Document], name: str, fill: Callable[[], Awaitable[None]]
) -> None:
    """Run ``fill`` unless a marker ``name`` in ``done`` says it ran in this database; the
    marker is written after it, so a fill cut short runs again at the next start (a lookup
    filled for documents written before it existed)."""
    marker = {"_id": name}
    if await done.find_one(marker) is not None:
        return
    await fill()
    await done.replace_one(marker, {"filled": True}, upsert=True)
