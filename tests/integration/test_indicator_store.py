"""The indicator service's record of what it published (services/indicators/store.py): the
history is the log, ``unit_status`` a checkpoint into it every ``CHECKPOINT_EVERY``
versions. On the real FerretDB."""

from __future__ import annotations

import pytest
from pymongo import AsyncMongoClient

from services.indicators.store import CHECKPOINT_EVERY, IndicatorsStore, Published
from shared.store import Document

AS_OF, AS_OF_UTC = "2026-05-01T08:00:00+07:00", "2026-05-01T01:00:00.000000+00:00"


def record(unit_id: str, version: int, share: int) -> Published:
    content = {"unit_id": unit_id, "active": True, "indicators": {"share": share}}
    return Published(unit_id, version, content)


async def test_the_last_record_is_read_through_the_checkpoint_and_beyond_it(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    db = mongo[database_name]
    store = IndicatorsStore(db)
    last = CHECKPOINT_EVERY + 2
    for version in range(1, last + 1):
        await store.save_published([(record("A", version, version), AS_OF, AS_OF_UTC)])
    assert await store.load_published() == {"A": record("A", last, last)}
    stored = await db["indicator_history"].find_one({"_id": f"A:{last}"})
    assert stored is not None
    assert isinstance(stored["indicators"], bytes)  # packed (see store.py)
    assert await db["unit_status"].find_one({"_id": "A"}) == {
        "_id": "A",
        "version": CHECKPOINT_EVERY,
        "as_of": AS_OF,
    }
    assert await store.load_published(["A", "B"]) == {"A": record("A", last, last)}

    # records without a checkpoint written by hand, indicators as nested documents as
    # written before they were packed: A's next two, and B's first (B has no checkpoint at
    # all, so it is found only when it is asked for)
    for unit_id, version in (("A", last + 1), ("A", last + 2), ("B", 1)):
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
    assert await store.load_published() == {"A": record("A", last + 2, last + 2)}
    assert await store.load_published(["A", "B", "C"]) == {
        "A": record("A", last + 2, last + 2),
        "B": record("B", 1, 1),
    }


async def test_a_checkpoint_written_with_its_record_is_read_as_it_is(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    """A database written when ``unit_status`` held the whole record, with a history record
    missing behind it (the status was written first then)."""
    db = mongo[database_name]
    old = record("D1", 3, 7)
    await db["unit_status"].insert_one(
        {"_id": "D1", "version": 3, "as_of": AS_OF, "content": old.content}
    )
    assert await IndicatorsStore(db).load_published() == {"D1": old}

    await db["unit_status"].insert_one({"_id": "D2", "version": 1, "as_of": AS_OF})
    with pytest.raises(RuntimeError, match="D2:1"):
        await IndicatorsStore(db).load_published()
