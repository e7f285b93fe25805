"""The indicator service's record of what it published (services/indicators/store.py): the
history is pages, one a publication, and a snapshot every few pages says what the service
keeps of each unit's last record; a store written before pages (a record a document,
``unit_status`` checkpoints) is read as it is. On the real FerretDB."""

from __future__ import annotations

import pytest
from pymongo import AsyncMongoClient

from services.indicators.domain.publication import Seen
from services.indicators.store import IndicatorsStore, Published
from shared.store import Document

AS_OF, AS_OF_UTC = "2026-05-01T08:00:00+07:00", "2026-05-01T01:00:00.000000+00:00"


def record(unit_id: str, version: int, share: int) -> Published:
    content = {"unit_id": unit_id, "active": True, "indicators": {"share": share}}
    return Published(unit_id, version, content)


async def save(store: IndicatorsStore, number: int, *records: Published) -> int:
    return await store.save_page(number, list(records), as_of=AS_OF, as_of_utc=AS_OF_UTC)


async def test_the_last_records_are_the_snapshot_and_the_pages_after_it(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    db = mongo[database_name]
    store = IndicatorsStore(db)
    assert await save(store, 1, record("A", 1, 10), record("B", 1, 20)) == 1
    assert await save(store, 2, record("A", 2, 11)) == 2
    page = await db["indicator_history"].find_one({"_id": "page:000000000002"})
    assert page is not None
    assert (page["page"], page["as_of"], page["as_of_utc"]) == (2, AS_OF, AS_OF_UTC)
    assert isinstance(page["records"], bytes)  # packed (see store.py)

    index = await store.published_index()
    assert (index.last_page, index.snapshot_page) == (2, None)
    assert index.seen == {
        "A": Seen.of(2, record("A", 2, 11).content, page=2),
        "B": Seen.of(1, record("B", 1, 20).content, page=1),
    }
    assert await store.load_published() == {"A": record("A", 2, 11), "B": record("B", 1, 20)}

    # A snapshot at page 2 is read instead of pages 1 and 2: it is what a snapshot says
    # (here, something no page says) that comes back, with the pages after it.
    await store.save_snapshot(2, {"A": index.seen["A"], "C": Seen(7, False, b"x" * 16, 2)})
    assert await save(store, 3, record("B", 2, 21)) == 3
    index = await store.published_index()
    assert (index.last_page, index.snapshot_page) == (3, 2)
    assert index.seen == {
        "A": Seen.of(2, record("A", 2, 11).content, page=2),
        "B": Seen.of(2, record("B", 2, 21).content, page=3),
        "C": Seen(7, False, b"x" * 16, 2),
    }
    # C's version 7 is not on page 2: a record the snapshot places where it is not is
    # not made up
    assert await store.records(index.seen) == {"A": record("A", 2, 11), "B": record("B", 2, 21)}


async def test_a_page_number_another_replica_took_is_skipped(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    db = mongo[database_name]
    first, second = IndicatorsStore(db), IndicatorsStore(db)
    assert await save(first, 1, record("A", 1, 10)) == 1
    assert await save(second, 1, record("A", 1, 10)) == 2  # the same record again
    assert await save(first, 2, record("A", 2, 12)) == 3
    assert await db["indicator_history"].count_documents({}) == 3
    index = await first.published_index()
    assert index.last_page == 3
    assert index.seen["A"] == Seen.of(2, record("A", 2, 12).content, page=3)


async def test_a_store_written_before_pages_is_read_then_pages_go_on_from_it(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    """A record a document, ``_id`` ``<unit>:<version>``, indicators packed or not, and
    ``unit_status`` checkpoints into them (or holding the record itself, earlier still)."""
    db = mongo[database_name]
    for unit_id, version in (("A", 16), ("A", 17), ("B", 1)):
        published = record(unit_id, version, version)
        await db["indicator_history"].insert_one(
            {
                "_id": f"{unit_id}:{version}",
                "version": version,
                "as_of": AS_OF,
                "as_of_utc": AS_OF_UTC,
                **published.content,
            }
        )
    await db["unit_status"].insert_one({"_id": "A", "version": 16, "as_of": AS_OF})
    old = record("D1", 3, 7)  # its checkpoint holds the record, its history lacks it
    await db["unit_status"].insert_one(
        {"_id": "D1", "version": 3, "as_of": AS_OF, "content": old.content}
    )
    store = IndicatorsStore(db)
    # B has no checkpoint: it is found only when it is asked for
    assert await store.load_published() == {"A": record("A", 17, 17), "D1": old}
    assert await store.load_published(["B", "C"]) == {
        "A": record("A", 17, 17),
        "B": record("B", 1, 1),
        "D1": old,
    }

    index = await store.published_index(["B"])
    assert (index.last_page, index.snapshot_page) == (0, None)
    assert {u: (s.version, s.page) for u, s in index.seen.items()} == {
        "A": (17, 0),
        "B": (1, 0),
        "D1": (3, 0),
    }
    await store.save_snapshot(0, index.seen)
    assert await save(store, 1, record("B", 2, 2)) == 1
    after = await store.published_index()
    assert {u: (s.version, s.page) for u, s in after.seen.items()} == {
        "A": (17, 0),
        "B": (2, 1),
        "D1": (3, 0),
    }
    assert await store.records(after.seen) == {
        "A": record("A", 17, 17),
        "B": record("B", 2, 2),
        "D1": old,
    }

    await db["unit_status"].insert_one({"_id": "D2", "version": 1, "as_of": AS_OF})
    with pytest.raises(RuntimeError, match="D2:1"):
        await IndicatorsStore(db).load_published()
