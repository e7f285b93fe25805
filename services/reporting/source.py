"""Reading the indicator service's history (and, for the report, the inspection service's
recommendations) from the store. Read-only: nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pymongo.asynchronous.database import AsyncDatabase

from services.reporting.history import UnitStatus, parse_document, utc_text
from shared.store import Document

HISTORY = "indicator_history"


class HistorySource:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db

    async def records_before(self, cutoff: datetime) -> list[UnitStatus]:
        """Every history record published before ``cutoff``, in no particular order (a
        record published again after a restart may be there twice)."""
        query = {"as_of_utc": {"$lt": utc_text(cutoff)}}
        return [r async for d in self._db[HISTORY].find(query) for r in parse_document(d)]

    async def is_empty(self) -> bool:
        return await self._db[HISTORY].find_one({}, projection={"_id": 1}) is None


@dataclass(frozen=True)
class Recommendation:
    """A recommendation (kiến nghị) as it stood at a cut-off."""

    unit_id: str
    due: date
    issued_at: datetime
    resolved_at: datetime | None


class RecommendationSource:
    """The inspection service's ``recommendations`` (see services/inspections/README.md)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db

    async def issued_before(self, cutoff: datetime) -> list[Recommendation]:
        """Recommendations issued before ``cutoff`` and not withdrawn (a withdrawal has no
        date of its own: a cancelled inspection's recommendations count nowhere)."""
        found = []
        async for d in self._db["recommendations"].find({"status": {"$ne": "withdrawn"}}):
            issued = _instant(d.get("issued_at"))
            if issued is None or issued >= cutoff or not d.get("due"):
                continue
            found.append(
                Recommendation(
                    unit_id=str(d["unit_id"]),
                    due=date.fromisoformat(str(d["due"])),
                    issued_at=issued,
                    resolved_at=_instant(d.get("resolved_at")),
                )
            )
        return found


def _instant(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value)
    return None
