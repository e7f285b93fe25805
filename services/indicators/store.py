"""The indicator service's collections.

- ``units``, ``unit_inspections``: the facts it was told (one document per subject:
  ``revision`` and ``facts``, the change event's data), so that a restart or a replica
  taking over rebuilds the tally without re-reading those topics from the start. A write
  only replaces an older revision. People are not kept here: a reload reads them from the
  people topic (people.py). (A ``people`` collection written by an older version is
  neither read nor written.)
- ``meta``: ``{_id: "people", end, at}`` (:class:`Progress`), written before a batch's
  facts and records: ``end``, the offset of the people topic up to which people were applied by a
  batch that went on to publish; ``at``, the instant the records were computed at. A reload
  reads the topic that far and computes at that instant, so that a record published but
  not recorded (the service stopped in between) is published again the same.
- ``indicator_history``: every published record, ``_id`` = ``<unit_id>:<version>``, for
  reports "as of" a past date, and for the service itself the content it last published.
  Its ``indicators`` are one BSON binary field (``shared.documents.packed``): inserting
  records took 2.6 times as long with them as nested documents (5,100 against 13,400
  records a second here). Records written before are read as they are.
- ``unit_status``: per unit, a ``version`` (and ``as_of``) published on the feed: a
  checkpoint into the history, written after it, every ``CHECKPOINT_EVERY``-th version.
  The last record of a unit is found by reading ``<unit_id>:<version + 1>`` from the
  checkpoint (from ``<unit_id>:1`` without one) until there is none; comparing a fresh
  computation with it says what to publish, after a restart too. (It held the whole
  record once, then the version of every record: a second write for every record
  published, and every event publishes a unit and its ancestors.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from pymongo import ASCENDING, InsertOne, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from shared.documents import packed, unpacked
from shared.internal import UnitChanged, UnitInspectionStatus
from shared.store import (
    WRITE_CHUNKS_IN_FLIGHT,
    Document,
    bulk_write,
    find_by_ids,
    replace_newer,
)

LOAD_CHUNK = 1000  # documents read together where a whole collection is read
# A checkpoint every 16th version: a record costs one write instead of two, and a reload
# reads at most 16 rounds of ids beyond the checkpoints (each round all remaining units).
CHECKPOINT_EVERY = 16
T = TypeVar("T")


@dataclass(frozen=True)
class Published:
    unit_id: str
    version: int
    content: Document


@dataclass(frozen=True)
class Progress:
    people_end: int  # 0: no person applied yet
    at: datetime | None  # None: nothing published yet (or by a version that did not say)


@dataclass(frozen=True)
class StoredFacts:
    units: list[UnitChanged]
    inspections: list[UnitInspectionStatus]


class IndicatorsStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db

    async def create_indexes(self) -> None:
        await self._db["indicator_history"].create_index(
            [("unit_id", ASCENDING), ("as_of_utc", ASCENDING)]
        )

    async def load_facts(self) -> StoredFacts:
        units = [UnitChanged.model_validate(d["facts"]) async for d in self._db["units"].find()]
        inspections = [
            UnitInspectionStatus.model_validate(d["facts"])
            async for d in self._db["unit_inspections"].find()
        ]
        return StoredFacts(units, inspections)

    async def save_progress(self, *, at: datetime, people_end: int | None = None) -> None:
        """Records computed at ``at`` are about to be published, from the people up to
        offset ``people_end`` (exclusive) of the people topic (None: as before)."""
        fields: Document = {"at": at.isoformat()}
        if people_end is not None:
            fields["end"] = people_end
        await self._db["meta"].update_one({"_id": "people"}, {"$set": fields}, upsert=True)

    async def progress(self) -> Progress:
        """Where :meth:`save_progress` last left it."""
        doc = await self._db["meta"].find_one({"_id": "people"}) or {}
        at = doc.get("at")
        return Progress(int(doc.get("end", 0)), datetime.fromisoformat(at) if at else None)

    async def save_facts(
        self, *, units: Iterable[UnitChanged], inspections: Iterable[UnitInspectionStatus]
    ) -> None:
        """Write the facts newer than the stored ones."""
        for collection, items in (("units", units), ("unit_inspections", inspections)):
            documents = [
                {"_id": i.unit_id, "revision": i.revision, "facts": i.model_dump(mode="json")}
                for i in items
            ]
            await replace_newer(self._db[collection], documents, revision_field="revision")

    async def load_published(self, unit_ids: Iterable[str] = ()) -> dict[str, Published]:
        """The last record published of every unit with a checkpoint or among ``unit_ids``."""
        return await self.load_published_as(lambda published: published, unit_ids)

    async def load_published_as(
        self, keep: Callable[[Published], T], unit_ids: Iterable[str] = ()
    ) -> dict[str, T]:
        """:meth:`load_published`, each record passed through ``keep`` as it is read:
        ``LOAD_CHUNK`` units at a time, so that a caller keeping less than the records
        never holds them all (8,400 units' records are about 40 MB as Python dicts)."""
        checkpoints = {d["_id"]: d async for d in self._db["unit_status"].find({}, {"as_of": 0})}
        units = list(dict.fromkeys([*checkpoints, *unit_ids]))
        kept: dict[str, T] = {}
        for start in range(0, len(units), LOAD_CHUNK):
            chunk = units[start : start + LOAD_CHUNK]
            last = await self._last_records({u: checkpoints.get(u) for u in chunk})
            kept |= {unit_id: keep(published) for unit_id, published in last.items()}
        return kept

    async def _last_records(
        self, checkpoints: Mapping[str, Document | None]
    ) -> dict[str, Published]:
        """The last record of each unit given with its checkpoint (None: it has none)."""
        history = self._db["indicator_history"]
        present = {u: c for u, c in checkpoints.items() if c is not None}
        latest = await find_by_ids(history, (f"{u}:{c['version']}" for u, c in present.items()))
        published = {}
        for unit_id, checkpoint in present.items():
            record = latest.get(f"{unit_id}:{checkpoint['version']}")
            if record is not None:
                published[unit_id] = _published(record)
            elif "content" in checkpoint:  # written when the checkpoint held the record
                published[unit_id] = Published(
                    unit_id, checkpoint["version"], checkpoint["content"]
                )
            else:
                raise RuntimeError(f"indicator_history lacks {unit_id}:{checkpoint['version']}")
        versions = {u: 0 for u in checkpoints} | {u: p.version for u, p in published.items()}
        while versions:  # records beyond the checkpoints
            found = await find_by_ids(history, (f"{u}:{v + 1}" for u, v in versions.items()))
            newer = [_published(record) for record in found.values()]
            published |= {p.unit_id: p for p in newer}
            versions = {p.unit_id: p.version for p in newer}
        return published

    async def save_published(self, records: Iterable[tuple[Published, str, str]]) -> None:
        """Record what was published: (record, as_of, as_of in UTC for range queries); the
        history first, then the checkpoints that point into it (every
        ``CHECKPOINT_EVERY``-th version: the records beyond are found by reading on)."""
        status, history = [], []
        for published, as_of, as_of_utc in records:
            if published.version % CHECKPOINT_EVERY == 0:
                status.append(
                    ReplaceOne(
                        {"_id": published.unit_id},
                        {"version": published.version, "as_of": as_of},
                        upsert=True,
                    )
                )
            history.append(
                InsertOne(
                    {
                        "_id": f"{published.unit_id}:{published.version}",
                        "version": published.version,
                        "as_of": as_of,
                        "as_of_utc": as_of_utc,
                        **published.content,
                        "indicators": packed(published.content["indicators"]),
                    }
                )
            )
        # A re-publication after a restart finds its history record already there.
        await bulk_write(
            self._db["indicator_history"],
            history,
            duplicates_ok=True,
            in_flight=WRITE_CHUNKS_IN_FLIGHT,  # a record per unit: different documents
        )
        await bulk_write(self._db["unit_status"], status)


HISTORY_FIELDS = ("_id", "version", "as_of", "as_of_utc")  # a history record beyond content


def _published(record: Document) -> Published:
    content = {k: v for k, v in record.items() if k not in HISTORY_FIELDS}
    content["indicators"] = unpacked(content["indicators"])
    return Published(record["unit_id"], record["version"], content)
