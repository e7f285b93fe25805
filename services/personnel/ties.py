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

The pending-references gauge counts the people tied to units not registered yet. It read
the ids of every entry for that, every 15 s: 466 ms for 5,000 units on FerretDB here.
``units_ahead`` lists the units a person named before their registration (``{_id: unit}``,
written with the ties, never removed), so the gauge reads that small collection and the
entries of those still unregistered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from pymongo import InsertOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from shared.store import Document, WriteRequest, bulk_write, find_by_ids, once_per_database

# (person, tied_units about to be written, tied_units stored before or None)
TieChange = tuple[str, Sequence[str], Sequence[str] | None]


def ties_to_add(changes: Iterable[TieChange]) -> dict[str, set[str]]:
    """unit -> people newly tied to it by the writes about to be made."""
    added: dict[str, set[str]] = defaultdict(set)
    for person, tied, before in changes:
        for unit in set(tied) - set(before or ()):
            added[unit].add(person)
    return dict(added)


def newly_ahead(changes: Iterable[tuple[Sequence[str], Sequence[str] | None]]) -> set[str]:
    """The units named before their registration by the writes about to be made, from each
    write's (``pending_units`` about to be written, those stored before or None)."""
    return {unit for pending, before in changes for unit in set(pending) - set(before or ())}


class UnitTies:
    """The entries (``entries``) for the person documents in ``people``, and the units
    named before their registration (``ahead``)."""

    def __init__(
        self,
        entries: AsyncCollection[Document],
        people: AsyncCollection[Document],
        ahead: AsyncCollection[Document],
    ) -> None:
        self._entries = entries
        self._people = people
        self._ahead = ahead

    async def fill_once(self, done: AsyncCollection[Document]) -> None:
        """Entries for people written before there were ties, once per database (``done``
        records it)."""

        async def fill() -> None:
            cursor = self._people.find({}, {"tied_units": 1})
            await self.add(
                ties_to_add([(d["_id"], d.get("tied_units", []), None) async for d in cursor])
            )

        await once_per_database(done, f"ties:{self._entries.name}", fill)

    async def fill_ahead_once(self, done: AsyncCollection[Document], registered: set[str]) -> None:
        """The units ahead for entries written before there was ``ahead``, once per database
        (``done`` records it)."""

        async def fill() -> None:
            units = [d["_id"] async for d in self._entries.find({}, {"_id": 1})]
            await self.add({}, ahead={u for u in units if u not in registered})

        await once_per_database(done, f"ahead:{self._ahead.name}", fill)

    async def add(
        self, people_by_unit: Mapping[str, Iterable[str]], *, ahead: Iterable[str] = ()
    ) -> None:
        """Tie people to units, and list the units ``ahead`` (named before their
        registration)."""
        requests: list[WriteRequest] = [
            UpdateOne(
                {"_id": unit}, {"$addToSet": {"people": {"$each": sorted(people)}}}, upsert=True
            )
            for unit, people in sorted(people_by_unit.items())
        ]
        await bulk_write(self._entries, requests)
        listed: list[WriteRequest] = [InsertOne({"_id": unit}) for unit in sorted(ahead)]
        await bulk_write(self._ahead, listed, duplicates_ok=True)

    async def people_tied_to(self, unit_ids: Iterable[str]) -> list[str]:
        entries = await find_by_ids(self._entries, unit_ids)
        return sorted({p for entry in entries.values() for p in entry.get("people", [])})

    async def people_tied_to_units_ahead_but(self, units: set[str]) -> int:
        """How many people are or were tied to a unit named before its registration that is
        not in ``units``."""
        ahead = [d["_id"] async for d in self._ahead.find({})]
        return len(await self.people_tied_to(u for u in ahead if u not in units))
