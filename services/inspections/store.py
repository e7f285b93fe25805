"""The inspections service's collections (described in README.md).

- ``inspections``: one document per inspection, with its event history and revision ``rev``.
- ``recommendations``: one per recommendation, derived from its inspection's document.
- ``unit_inspections``: each unit's own inspection facts, with a revision ``rev`` (what is
  published on ``parity.inspections.status.v1``).
- ``unit_inspection_status``: each unit's status, own and rolled up over its subtree.

Writes of ``inspections`` and ``unit_inspections`` replace the whole document on condition
that ``rev`` is still what was read (compare-and-set), so an inspection's projection and the
events it came from are one single-document write, and two writers (the consumer and the
sweep, or two replicas during a rebalance) never overwrite each other: the loser reads
again. The two derived collections are rewritten from their source, never the other way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from pymongo import ASCENDING, DeleteMany
from pymongo.asynchronous.database import AsyncDatabase

from services.inspections.documents import Document
from shared.agenda import Agenda
from shared.documents import Stored, Write, instant, load_subjects, save_subjects
from shared.store import bulk_write, next_counter, replace_newer

ROLLUP_VERSION = "rollup_version"


class InspectionsStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.inspections = db["inspections"]
        self.recommendations = db["recommendations"]
        self.unit_inspections = db["unit_inspections"]
        self.unit_status = db["unit_inspection_status"]
        self._meta = db["meta"]
        # when inspections with a future-dated event or a deadline are next due
        self.agenda = Agenda(db["inspections_due"], self.inspections, self._meta)

    async def create_indexes(self) -> None:
        await self.inspections.create_index([("named_units", ASCENDING)])
        await self.inspections.create_index([("status", ASCENDING)])
        await self.recommendations.create_index([("inspection_id", ASCENDING)])
        await self.recommendations.create_index([("unit_id", ASCENDING)])
        await self.recommendations.create_index([("status", ASCENDING)])

    # --- compare-and-set documents ---------------------------------------------------------

    async def load_inspections(self, subjects: Iterable[str]) -> dict[str, Stored]:
        return await load_subjects(self.inspections, subjects)

    async def load_units(self, unit_ids: Iterable[str]) -> dict[str, Stored]:
        return await load_subjects(self.unit_inspections, unit_ids, {"history": 0})

    async def save_inspections(self, writes: list[Write]) -> list[str]:
        """Write what is still at its expected revision; returns the subjects that were not."""
        return await save_subjects(self.inspections, writes)

    async def save_units(self, writes: list[Write]) -> list[str]:
        return await save_subjects(self.unit_inspections, writes)

    async def all_unit_facts(self) -> dict[str, Document]:
        return {doc["_id"]: doc async for doc in self.unit_inspections.find({})}

    # --- queries -----------------------------------------------------------------------------

    async def contributions_to(self, unit_ids: Iterable[str]) -> dict[str, list[Document]]:
        """The stored contributions of every inspection naming the units, by unit."""
        wanted = set(unit_ids)
        found: dict[str, list[Document]] = {u: [] for u in wanted}
        cursor = self.inspections.find(
            {"named_units": {"$in": sorted(wanted)}}, {"contributions": 1}
        )
        async for doc in cursor:
            for part in doc.get("contributions", []):
                if part["unit_id"] in wanted:
                    found[part["unit_id"]].append(part)
        return found

    async def build_agenda(self) -> None:
        await self.agenda.start()

    async def count_by(self, collection: str, field: str, values: Iterable[str]) -> dict[str, int]:
        """How many documents hold each of ``values`` in ``field``: one read of the collection
        (a count per value read it once per value on FerretDB, which filters in SQL by
        ``_id`` only)."""
        target = self.inspections if collection == "inspections" else self.recommendations
        counts = dict.fromkeys(values, 0)
        cursor = await target.aggregate([{"$group": {"_id": f"${field}", "n": {"$sum": 1}}}])
        async for group in cursor:
            if group["_id"] in counts:
                counts[group["_id"]] = int(group["n"])
        return counts

    async def count_waiting(self) -> int:
        return await self.inspections.count_documents({"next_event_due": {"$ne": None}})

    # --- derived collections ---------------------------------------------------------------

    async def sync_recommendations(
        self, inspection_id: str, inspection_rev: int, documents: list[Document]
    ) -> None:
        """Make the inspection's recommendations what its revision says, unless a newer
        revision has already written them."""
        await replace_newer(self.recommendations, documents, revision_field="inspection_rev")
        stale = DeleteMany(
            {
                "inspection_id": inspection_id,
                "inspection_rev": {"$lt": inspection_rev},
                "_id": {"$nin": [d["_id"] for d in documents]},
            }
        )
        await bulk_write(self.recommendations, [stale])

    async def rollups(self, unit_ids: Iterable[str] | None) -> dict[str, Document]:
        query = {} if unit_ids is None else {"_id": {"$in": sorted(unit_ids)}}
        projection = {"as_of": 0, ROLLUP_VERSION: 0}
        return {doc["_id"]: doc async for doc in self.unit_status.find(query, projection)}

    async def next_rollup_version(self) -> int:
        """A number above every earlier roll-up computation's, in every replica: taken
        before the facts are read, and kept with the roll-ups computed from them."""
        return await next_counter(self._meta, ROLLUP_VERSION)

    async def save_rollups(
        self, documents: Mapping[str, Document], as_of: datetime, version: int
    ) -> None:
        """Write the roll-ups unless one computed later is there (a sweep that read every
        unit's facts before a consumer's write must not overwrite the consumer's roll-ups)."""
        await replace_newer(
            self.unit_status,
            [
                {"_id": unit_id, **doc, "as_of": instant(as_of), ROLLUP_VERSION: version}
                for unit_id, doc in documents.items()
            ],
            revision_field=ROLLUP_VERSION,
        )
