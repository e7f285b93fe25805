"""The inspection gauges' counts (services/inspections/store.py) on the real FerretDB."""

from __future__ import annotations

from pymongo import AsyncMongoClient

from services.inspections.store import InspectionsStore
from shared.store import Document


async def test_counts_by_status_read_each_value_and_ignore_the_others(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    db = mongo[database_name]
    statuses = ["planned", "closed", "closed", "started", "closed", "pending", None]
    await db["inspections"].insert_many(
        [{"_id": f"I{i}", "status": s} for i, s in enumerate(statuses)]
    )
    await db["recommendations"].insert_many(
        [{"_id": "R1", "status": "open"}, {"_id": "R2", "status": "resolved"}]
    )
    store = InspectionsStore(db)
    counts = await store.count_by("inspections", "status", ("planned", "closed", "cancelled"))
    assert counts == {"planned": 1, "closed": 3, "cancelled": 0}
    recommendations = await store.count_by("recommendations", "status", ("open", "overdue"))
    assert recommendations == {"open": 1, "overdue": 0}
