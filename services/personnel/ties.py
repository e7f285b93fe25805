"""Which people each unit is tied to: a small collection instead of a scan of ``people``.

A person is tied to a unit when the unit is their home, holds one of their positions,
planning entries or appointments, or is named by their events and not registered yet
(``tied_units`` of the person document). A unit event re-folds the people tied to it.
Finding them with ``find({"tied_units": {"$in": units}})`` reads every person with their
whole history on FerretDB, for every batch of unit events, so the cost of a unit event
grew with the organisation. ``unit_people`` keeps one entry ``{_id: unit, people: [...]}``
per unit, read by ``_id``.

What keeps it safe: a tie is added *before* the person document that has it is written,
so a writer that dies in between leaves a tie too many, never one too few. Ties are never
removed: a person who leaves a unit stays listed under it. A tie too many costs one read
and fold that changes nothing, while a removal could race a writer on another replica that
has just tied the person to that unit again, and a tie too few loses an update.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from shared.store import Document, WriteRequest, bulk_write, find_by_ids

# (person, tied_units about to be written, tied_units stored before or None)
TieChange = tuple[str, Sequence[str], Sequence[str] | None]


def ties_to_add(changes: Iterable[TieChange]) -> dict[str, set[str]]:
    """unit -> people newly tied to it by the writes about to be made."""
    added: dict[str, set[str]] = defaultdict(set)
    for person, tied, before in changes:
        for unit in set(tied) - set(before or ()):
            added[unit].add(person)
    return dict(added)


class UnitTies:
    """The entries (``entries``) for the person documents in ``people``."""

    def __init__(
        self, entries: AsyncCollection[Document], people: AsyncCollection[Document]
    ) -> None:
        self._entries = entries
        self._people = people

    async def fill_once(self, done: AsyncCollection[Document]) -> None:
        """Entries for people written before there were ties, once per database (``done``
        records it)."""
        marker = {"_id": f"ties:{self._entries.name}"}
        if await done.find_one(marker) is not None:
            return
        cursor = self._people.find({}, {"tied_units": 1})
        await self.add(
            ties_to_add([(d["_id"], d.get("tied_units", []), None) async for d in cursor])
        )
        await done.replace_one(marker, {"filled": True}, upsert=True)

    async def add(self, people_by_unit: Mapping[str, Iterable[str]]) -> None:
        requests: list[WriteRequest] = [
            UpdateOne(
                {"_id": unit}, {"$addToSet": {"people": {"$each": sorted(people)}}}, upsert=True
            )
            for unit, people in sorted(people_by_unit.items())
        ]
        await bulk_write(self._entries, requests)

    async def people_tied_to(self, unit_ids: Iterable[str]) -> list[str]:
        entries = await find_by_ids(self._entries, unit_ids)
        return sorted({p for entry in entries.values() for p in entry.get("people", [])})

    async def people_tied_to_any_but(self, units: set[str]) -> int:
        """How many people are or were tied to a unit not in ``units``."""
        others = [d["_id"] async for d in self._entries.find({}, {"_id": 1})]
        return len(await self.people_tied_to(u for u in others if u not in units))
