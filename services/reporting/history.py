"""The indicator history as values, and the province as it stood at a cut-off (pure).

A history document is a page of the feed records one publication published (contract
section 4), with their ``as_of`` and ``as_of_utc``; one written before pages is one record
with its own (services/indicators/store.py).
"As of a date" means: for each unit, its latest record published before the end of that
date in Asia/Ho_Chi_Minh (the next local midnight), never the state of today.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bson.errors import InvalidBSON

from shared.clock import VIETNAM
from shared.documents import unpacked

DIVISION_LEVELS = frozenset({"division"})


class HistoryError(ValueError):
    """A history document that cannot be read (names the document)."""


@dataclass(frozen=True)
class Figure:
    """One indicator of one unit: ``value`` is numerator/denominator (a count for counts)."""

    value: float | None
    numerator: int
    denominator: int | None


@dataclass(frozen=True)
class UnitStatus:
    """A unit's whole status as one feed record stated it."""

    unit_id: str
    version: int
    instant: datetime  # as_of, timezone-aware
    name: str
    level: str
    parent_id: str | None
    active: bool
    indicators: Mapping[str, Figure]


def parse_record(document: Mapping[str, Any]) -> UnitStatus:
    """A history document as a value; :class:`HistoryError` when it is malformed."""
    try:
        figures = {
            name: Figure(
                value=None if raw["value"] is None else float(raw["value"]),
                numerator=int(raw["numerator"]),
                denominator=None if raw["denominator"] is None else int(raw["denominator"]),
            )
            for name, raw in unpacked(document["indicators"]).items()
        }
        instant = datetime.fromisoformat(document["as_of_utc"])
        if instant.tzinfo is None:
            raise ValueError("as_of_utc has no offset")
        return UnitStatus(
            unit_id=str(document["unit_id"]),
            version=int(document["version"]),
            instant=instant,
            name=str(document["name"]),
            level=str(document["level"]),
            parent_id=None if document["parent_id"] is None else str(document["parent_id"]),
            active=bool(document["active"]),
            indicators=figures,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise HistoryError(f"history record {document.get('_id')!r}: {error!r}") from None


def parse_document(document: Mapping[str, Any]) -> list[UnitStatus]:
    """A history document's records as values: a page's, or the one it is (written before
    pages); :class:`HistoryError` when it is malformed."""
    if "records" not in document:
        return [parse_record(document)]
    name = document.get("_id")
    try:
        entries = unpacked(document["records"])["records"]
        as_of_utc = document["as_of_utc"]
        return [
            parse_record({**entry, "_id": f"{name} {entry.get('unit_id')}", "as_of_utc": as_of_utc})
            for entry in entries
        ]
    except (KeyError, TypeError, AttributeError, InvalidBSON) as error:
        raise HistoryError(f"history page {name!r}: {error!r}") from None


def end_of_day(day: date) -> datetime:
    """The first instant after ``day`` in Vietnam (records before it count for that day)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=VIETNAM)


def utc_text(instant: datetime) -> str:
    """An instant in the format of ``as_of_utc`` (for range queries on the store)."""
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


def snapshots(
    records: Iterable[UnitStatus], cutoffs: Sequence[datetime]
) -> list[dict[str, UnitStatus]]:
    """For each cut-off, every unit's latest record strictly before it (one pass)."""
    ordered = sorted(records, key=lambda r: (r.instant, r.version))
    order = sorted(range(len(cutoffs)), key=lambda i: cutoffs[i])
    found: list[dict[str, UnitStatus]] = [{} for _ in cutoffs]
    latest: dict[str, UnitStatus] = {}
    position = 0
    for index in order:
        while position < len(ordered) and ordered[position].instant < cutoffs[index]:
            record = ordered[position]
            known = latest.get(record.unit_id)
            if known is None or known.version < record.version:
                latest[record.unit_id] = record
            position += 1
        found[index] = dict(latest)
    return found


def snapshot(records: Iterable[UnitStatus], cutoff: datetime) -> dict[str, UnitStatus]:
    return snapshots(records, [cutoff])[0]


@dataclass
class Tree:
    """The active units of a snapshot and their parent links as they stood then."""

    units: dict[str, UnitStatus]
    children: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, statuses: Mapping[str, UnitStatus]) -> Tree:
        active = {u: s for u, s in statuses.items() if s.active}
        tree = cls(units=active)
        for unit_id in sorted(active, key=lambda u: (active[u].name, u)):
            parent = active[unit_id].parent_id
            if parent is not None:
                tree.children.setdefault(parent, []).append(unit_id)
        return tree

    def roots(self) -> list[str]:
        return sorted(u for u, s in self.units.items() if s.parent_id not in self.units)

    def subtree(self, unit_id: str) -> list[str]:
        """The unit and everything under it, depth first (children by name)."""
        if unit_id not in self.units:
            return []
        found, stack = [], [unit_id]
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(reversed(self.children.get(current, [])))
        return found

    def siblings(self, unit_id: str) -> list[str]:
        """Units of the same level under the same parent, itself excluded."""
        status = self.units[unit_id]
        if status.parent_id is None:
            return []
        return [
            u
            for u in self.children.get(status.parent_id, [])
            if u != unit_id and self.units[u].level == status.level
        ]

    def depth(self, unit_id: str) -> int:
        depth, current = 0, self.units[unit_id].parent_id
        while current is not None and current in self.units and depth < len(self.units):
            depth, current = depth + 1, self.units[current].parent_id
        return depth
