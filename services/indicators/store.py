"""The indicator service's collections.

- ``people``, ``units``, ``unit_inspections``: the facts it was told (one document per
  subject: ``revision`` and ``facts``, the change event's data), so that a restart or a
  replica taking over rebuilds the tally without re-reading the topics from the start. A
  write only replaces an older revision.
- ``unit_status``: per unit, the last record published on the feed (``version``,
  ``content`` = the published data but ``as_of`` and ``version``). Comparing a fresh
  computation with it says what to publish, after a restart too.
- ``indicator_history``: every published record, ``_id`` = ``<unit_id>:<version>``, for
  reports "as of" a past date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pymongo import ASCENDING, InsertOne, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from shared.internal import PersonChanged, UnitChanged, UnitInspectionStatus
from shared.store import Document, bulk_write, replace_newer


@dataclass(frozen=True)
class Published:
    unit_id: str
    version: int
    content: Document


@dataclass(frozen=True)
class Facts:
    people: list[PersonChanged]
    units: list[UnitChanged]
    inspections: list[UnitInspectionStatus]


class IndicatorsStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db

    async def create_indexes(self) -> None:
        await self._db["indicator_history"].create_index(
            [("unit_id", ASCENDING), ("as_of_utc", ASCENDING)]
        )

    async def load_facts(self) -> Facts:
        people = [PersonChanged.model_validate(d["facts"]) async for d in self._db["people"].find()]
        units = [UnitChanged.model_validate(d["facts"]) async for d in self._db["units"].find()]
        inspections = [
            UnitInspectionStatus.model_validate(d["facts"])
            async for d in self._db["unit_inspections"].find()
        ]
        return Facts(people, units, inspections)

    async def save_facts(
        self, facts: Facts, *, stored_people: Mapping[str, int] | None = None
    ) -> None:
        """Write the facts newer than the stored ones. ``stored_people``: the revisions of
        people this process knows are stored (its memory), which saves reading them first."""
        for collection, items in (
            ("people", facts.people),
            ("units", facts.units),
            ("unit_inspections", facts.inspections),
        ):
            documents = [
                {"_id": _subject(i), "revision": i.revision, "facts": i.model_dump(mode="json")}
                for i in items
            ]
            await replace_newer(
                self._db[collection],
                documents,
                revision_field="revision",
                expected=stored_people if collection == "people" else None,
            )

    async def load_published(self) -> dict[str, Published]:
        return {
            d["_id"]: Published(d["_id"], d["version"], d["content"])
            async for d in self._db["unit_status"].find()
        }

    async def save_published(self, records: Iterable[tuple[Published, str, str]]) -> None:
        """Record what was published: (record, as_of, as_of in UTC for range queries)."""
        status, history = [], []
        for published, as_of, as_of_utc in records:
            status.append(
                ReplaceOne(
                    {"_id": published.unit_id},
                    {"version": published.version, "as_of": as_of, "content": published.content},
                    upsert=True,
                )
            )
            history.append(
                InsertOne(
                    {
                        "_id": f"{published.unit_id}:{published.version}",
                        "unit_id": published.unit_id,
                        "version": published.version,
                        "as_of": as_of,
                        "as_of_utc": as_of_utc,
                        **published.content,
                    }
                )
            )
        await bulk_write(self._db["unit_status"], status)
        # A re-publication after a restart finds its history record already there.
        await bulk_write(self._db["indicator_history"], history, duplicates_ok=True)


def _subject(item: PersonChanged | UnitChanged | UnitInspectionStatus) -> str:
    return item.person_id if isinstance(item, PersonChanged) else item.unit_id
