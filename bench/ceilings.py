"""Raw ceilings on this machine: what aiokafka and the store do with nothing of Parity's.

- consume: one aiokafka consumer reads the HR records from offset 0 (records/s);
- upsert: the documents a projection of the same events would write, one per event (the
  subject's document with its history so far, encoded as the personnel service stores it:
  shared.documents), upserted by ``_id`` with the same client and the same chunked bulks
  (shared.store.bulk_write). Also measured with the history as an array of documents, as
  the services stored it before 2026-12-06, which FerretDB writes more slowly.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo import AsyncMongoClient, ReplaceOne

from bench.probe import LagProbe
from shared.contract import INSPECTIONS_TOPIC, PERSONNEL_TOPIC, UNITS_TOPIC
from shared.documents import binary_entries
from shared.kafka import client_options
from shared.settings import KafkaSettings
from shared.store import MAX_BULK_OPERATIONS, Document, WriteRequest, bulk_write
from tests.generator import Record

COLLECTIONS = {UNITS_TOPIC: "units", PERSONNEL_TOPIC: "people", INSPECTIONS_TOPIC: "inspections"}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else float("inf")


async def consume_ceiling(
    settings: KafkaSettings,
    probe: LagProbe,
    topics: Sequence[str],
    *,
    expected: int,
    timeout: float = 120.0,
) -> Rate:
    """Read the ``expected`` records of ``topics`` from the beginning with one plain
    consumer (the bench produced them; counting them is independent of offset metadata)."""
    partitions: list[TopicPartition] = [tp for t in topics for tp in await probe.partitions(t)]
    consumer = AIOKafkaConsumer(
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
        **client_options(settings),
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        for tp in partitions:
            await consumer.position(tp)
        count, started = 0, time.perf_counter()
        while count < expected:
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"consumed {count} of {expected} records in {timeout} s")
            batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
            count += sum(len(batch) for batch in batches.values())
        return Rate(count, time.perf_counter() - started)
    finally:
        await consumer.stop()


def projection_documents(
    records: Sequence[Record], *, history_as_array: bool = False
) -> list[tuple[str, Document]]:
    """(collection, document) for each valid event, in arrival order: the subject's
    document with every event of it so far, as a projection that writes per event would."""
    histories: dict[str, list[Document]] = {}
    documents: list[tuple[str, Document]] = []
    for record in records:
        event = record.event
        if event is None:
            continue
        history = histories.setdefault(event.subject, [])
        history.append(
            {
                "id": event.id,
                "source": event.source,
                "type": event.type,
                "time": event.time.isoformat(),
                "data": event.data,
            }
        )
        entries = list(history)
        document = {
            "_id": event.subject,
            "rev": len(history),
            "history": entries if history_as_array else binary_entries(entries),
        }
        documents.append((COLLECTIONS[record.topic], document))
    return documents


async def upsert_ceiling(
    mongo: AsyncMongoClient[Document],
    database: str,
    records: Sequence[Record],
    *,
    history_as_array: bool = False,
) -> Rate:
    """Upsert one document per event in bulks of at most ``MAX_BULK_OPERATIONS`` (each
    subject once per bulk)."""
    documents = projection_documents(records, history_as_array=history_as_array)
    db = mongo[database]
    pending: dict[str, dict[str, ReplaceOne[Document]]] = {c: {} for c in COLLECTIONS.values()}

    async def flush(collection: str) -> None:
        requests: list[WriteRequest] = list(pending[collection].values())
        if requests:
            await bulk_write(db[collection], requests)
        pending[collection] = {}

    started = time.perf_counter()
    for collection, document in documents:
        bulk = pending[collection]
        if document["_id"] in bulk or len(bulk) >= MAX_BULK_OPERATIONS:
            await flush(collection)
        pending[collection][document["_id"]] = ReplaceOne(
            {"_id": document["_id"]}, document, upsert=True
        )
    for collection in COLLECTIONS.values():
        await flush(collection)
    elapsed = time.perf_counter() - started
    await mongo.drop_database(database)
    return Rate(len(documents), elapsed)
