"""The notifications service's collections (documented in README.md).

``unit_status`` and ``inspection_status`` keep the last status seen per unit with its
version (revision), so rules compare previous and new and a redelivery is recognised;
``notifications`` is the log (``_id`` = notification id: raised once); ``deliveries`` is the
outbox and the delivery log; ``quiet`` the last notification per (unit, rule, indicator);
``last_words`` what subscribers were last told per (unit, indicator) and what the quiet
period holds back;
``anomalies`` the data-quality anomalies seen, per unit and local day, and the summary batch
each is counted in; ``unattributed_anomalies`` those with no unit (counted once in the
metric); ``subscriptions``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pymongo import ASCENDING, InsertOne, UpdateMany, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from services.notifications.documents import Document, last_word_document, last_word_of
from services.notifications.domain.policy import Held, LastWord, QuietMark
from services.notifications.domain.reminders import AnomalySeen
from services.notifications.domain.subscriptions import Subscription
from shared.documents import instant, parse_instant
from shared.internal import UnitInspectionStatus
from shared.outbound import UnitIndicators
from shared.store import bulk_write, replace_newer


async def _insert_new(collection: Any, documents: Sequence[Document]) -> int:
    """Insert what is not there yet (by ``_id``); an existing document is left as it is.
    Returns how many were inserted."""
    totals = await bulk_write(collection, [InsertOne(d) for d in documents], duplicates_ok=True)
    return totals.inserted


class NotificationsStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.unit_status = db["unit_status"]
        self.inspection_status = db["inspection_status"]
        self.notifications = db["notifications"]
        self.deliveries = db["deliveries"]
        self.quiet = db["quiet"]
        self.last_words = db["last_words"]
        self.anomalies = db["anomalies"]
        self.unattributed_anomalies = db["unattributed_anomalies"]
        self.subscriptions = db["subscriptions"]

    async def create_indexes(self) -> None:
        await self.deliveries.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
        await self.deliveries.create_index([("notification_id", ASCENDING)])
        await self.notifications.create_index([("unit_id", ASCENDING), ("rule", ASCENDING)])
        await self.anomalies.create_index([("summarised", ASCENDING), ("day", ASCENDING)])
        await self.last_words.create_index([("held.until", ASCENDING)])

    # --- last seen status per unit ----------------------------------------------------------

    async def unit_statuses(self, unit_ids: Iterable[str]) -> dict[str, UnitIndicators]:
        cursor = self.unit_status.find({"_id": {"$in": list(unit_ids)}})
        return {d["_id"]: UnitIndicators.model_validate(d["status"]) async for d in cursor}

    async def save_unit_statuses(self, statuses: Iterable[UnitIndicators]) -> None:
        await _save_newer(
            self.unit_status,
            [(s.unit_id, s.version, s.model_dump(mode="json")) for s in statuses],
        )

    async def inspection_statuses(self, unit_ids: Iterable[str]) -> dict[str, UnitInspectionStatus]:
        cursor = self.inspection_status.find({"_id": {"$in": list(unit_ids)}})
        return {d["_id"]: UnitInspectionStatus.model_validate(d["status"]) async for d in cursor}

    async def save_inspection_statuses(self, statuses: Iterable[UnitInspectionStatus]) -> None:
        await _save_newer(
            self.inspection_status,
            [(s.unit_id, s.revision, s.model_dump(mode="json")) for s in statuses],
        )

    # --- the log, the outbox and the quiet period -------------------------------------------

    async def logged(self, notification_ids: Iterable[str]) -> frozenset[str]:
        cursor = self.notifications.find({"_id": {"$in": list(notification_ids)}}, {"_id": 1})
        return frozenset([d["_id"] async for d in cursor])

    async def quiet_marks(self, keys: Iterable[str]) -> dict[str, QuietMark]:
        cursor = self.quiet.find({"_id": {"$in": list(keys)}})
        return {
            d["_id"]: QuietMark(d["notification_id"], parse_instant(d["raised_at"]))
            async for d in cursor
        }

    async def words(self, keys: Iterable[str]) -> dict[str, LastWord]:
        cursor = self.last_words.find({"_id": {"$in": list(keys)}})
        return {d["_id"]: last_word_of(d) async for d in cursor}

    async def held_due(self, now: datetime) -> list[Held]:
        """What the quiet period held back and may come out now (its quiet period is over)."""
        cursor = self.last_words.find({"held.until": {"$lte": instant(now)}})
        return [held async for d in cursor if (held := last_word_of(d).held) is not None]

    async def drop_held(self, held: Iterable[Held]) -> None:
        """Forget these held transitions, unless another was held since in their place."""
        requests = [
            UpdateOne(
                {"_id": h.candidate.state_key, "held.notification_id": h.candidate.notification_id},
                {"$set": {"held": None}},
            )
            for h in held
        ]
        if requests:
            await bulk_write(self.last_words, requests)

    async def record(
        self,
        notifications: Sequence[Document],
        deliveries: Sequence[Document],
        marks: Mapping[str, QuietMark],
        words: Mapping[str, LastWord] | None = None,
    ) -> None:
        """Outbox first, then quiet marks, then the log, then the last words: a notification
        in the log has its deliveries, and a retry after a crash in between writes the same
        documents again (a last word not written is derived again on redelivery, or a held
        transition already logged is dropped when it is due)."""
        await _insert_new(self.deliveries, deliveries)
        if marks:
            await bulk_write(
                self.quiet,
                [
                    UpdateOne(
                        {"_id": key},
                        {
                            "$set": {
                                "notification_id": mark.notification_id,
                                "raised_at": instant(mark.raised_at),
                            }
                        },
                        upsert=True,
                    )
                    for key, mark in marks.items()
                ],
            )
        await _insert_new(self.notifications, notifications)
        if words:
            await bulk_write(
                self.last_words,
                [
                    UpdateOne({"_id": key}, {"$set": last_word_document(word)}, upsert=True)
                    for key, word in words.items()
                ],
            )

    # --- subscriptions ------------------------------------------------------------------------

    async def all_subscriptions(self) -> list[Subscription]:
        return [
            Subscription.model_validate({k: v for k, v in d.items() if k != "_id"})
            async for d in self.subscriptions.find({}).sort("_id", ASCENDING)
        ]

    async def put_subscription(self, subscription: Subscription) -> None:
        document = subscription.model_dump(mode="json")
        document["secret"] = subscription.secret.get_secret_value() if subscription.secret else None
        await self.subscriptions.replace_one({"_id": subscription.id}, document, upsert=True)

    async def subscription(self, subscription_id: str) -> Subscription | None:
        """The subscription as it is now (None: removed)."""
        document = await self.subscriptions.find_one({"_id": subscription_id})
        if document is None:
            return None
        return Subscription.model_validate({k: v for k, v in document.items() if k != "_id"})

    async def remove_subscription(self, subscription_id: str) -> bool:
        result = await self.subscriptions.delete_one({"_id": subscription_id})
        return result.deleted_count == 1

    # --- data-quality anomalies -----------------------------------------------------------

    async def record_anomalies(self, anomalies: Sequence[Document]) -> None:
        await _insert_new(self.anomalies, anomalies)

    async def record_unattributed(self, anomalies: Sequence[Document]) -> int:
        """Keep the anomalies no unit can count; returns how many were not known yet."""
        return await _insert_new(self.unattributed_anomalies, anomalies)

    async def unclaimed_anomalies(self, before: date) -> list[AnomalySeen]:
        """Anomalies of days before ``before`` not yet claimed for a summary."""
        query = {"summarised": False, "summary": None, "day": {"$lt": before.isoformat()}}
        return [_anomaly(d) async for d in self.anomalies.find(query)]

    async def claim_anomalies(self, batches: Mapping[str, Sequence[str]]) -> None:
        """Put each batch's anomalies in it, unless another pass claimed them already."""
        claims = [
            UpdateMany({"_id": {"$in": list(ids)}, "summary": None}, {"$set": {"summary": batch}})
            for batch, ids in batches.items()
        ]
        await bulk_write(self.anomalies, claims)  # none: no round trip

    async def claimed_anomalies(self) -> list[AnomalySeen]:
        """Anomalies claimed for a summary that is not known to be raised yet."""
        query = {"summarised": False, "summary": {"$ne": None}}
        return [_anomaly(d) async for d in self.anomalies.find(query)]

    async def mark_summarised(self, anomaly_ids: Sequence[str]) -> None:
        """Exactly the anomalies a raised summary counted."""
        if anomaly_ids:
            await self.anomalies.update_many(
                {"_id": {"$in": list(anomaly_ids)}}, {"$set": {"summarised": True}}
            )

    # --- the outbox, as the delivery worker sees it ---------------------------------------

    async def due_deliveries(self, now: datetime, limit: int) -> list[Document]:
        moment = instant(now)
        cursor = (
            self.deliveries.find(
                {
                    "status": "pending",
                    "next_attempt_at": {"$lte": moment},
                    "lease_until": {"$lte": moment},
                }
            )
            .sort("next_attempt_at", ASCENDING)
            .limit(limit)
        )
        return [d async for d in cursor]

    async def claim(self, delivery: Document, lease_until: datetime) -> str | None:
        """Take the delivery for one attempt unless another worker did; returns the lease."""
        lease = instant(lease_until)
        result = await self.deliveries.update_one(
            {"_id": delivery["_id"], "status": "pending", "lease_until": delivery["lease_until"]},
            {"$set": {"lease_until": lease}},
        )
        return lease if result.modified_count == 1 else None

    async def finish_attempt(
        self, delivery_id: str, lease: str, changes: Document, entry: Document
    ) -> bool:
        """Record an attempt's outcome if the lease is still ours."""
        result = await self.deliveries.update_one(
            {"_id": delivery_id, "lease_until": lease},
            {"$set": changes, "$inc": {"attempts": 1}, "$push": {"log": entry}},
        )
        return result.modified_count == 1

    async def outbox_depth(self) -> int:
        return await self.deliveries.count_documents({"status": "pending"})


def _anomaly(document: Document) -> AnomalySeen:
    return AnomalySeen(
        anomaly_id=document["_id"],
        unit_id=document["unit_id"],
        day=document["day"],
        kind=document["kind"],
        batch=document.get("summary"),
    )


async def _save_newer(collection: Any, rows: Sequence[tuple[str, int, Document]]) -> None:
    """Keep each unit's status unless the same or a newer version is stored already."""
    documents = [{"_id": u, "version": version, "status": status} for u, version, status in rows]
    await replace_newer(collection, documents, revision_field="version")
