"""How the notifications service's collections look in MongoDB (see README.md).

Instants are RFC 3339 strings in UTC with microseconds, which sort as they compare
(``shared.documents.instant``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from services.notifications.domain.policy import Held, LastWord
from services.notifications.domain.rules import Candidate
from shared.documents import instant as instant
from shared.documents import parse_instant as parse_instant
from shared.outbound import Notification

Document = dict[str, Any]
DeliveryChannel = Literal["event", "email", "webhook"]
DeliveryStatus = Literal["pending", "delivered", "failed"]
NEVER = ""  # a lease that was never taken: sorts before every instant


def delivery_id(notification_id: str, channel: DeliveryChannel, subscription_id: str | None) -> str:
    if subscription_id is None:
        return f"{notification_id}/{channel}"
    return f"{notification_id}/{subscription_id}/{channel}"


def notification_document(notification: Notification, condition: tuple[str, ...]) -> Document:
    return {
        "_id": notification.notification_id,
        **notification.model_dump(mode="json"),
        "condition": list(condition),
    }


def notification_of(document: Document) -> Notification:
    return Notification.model_validate(
        {k: v for k, v in document.items() if k not in ("_id", "condition")}
    )


def delivery_document(
    notification: Notification,
    *,
    channel: DeliveryChannel,
    subscription_id: str | None,
    address: str | None,
    language: str | None,
    now: datetime,
) -> Document:
    """An outbox entry: one notification to one channel of one subscriber (or to Kafka)."""
    return {
        "_id": delivery_id(notification.notification_id, channel, subscription_id),
        "notification_id": notification.notification_id,
        "notification": notification.model_dump(mode="json"),
        "unit_id": notification.unit_id,
        "channel": channel,
        "subscription_id": subscription_id,
        "address": address,
        "language": language,
        "status": "pending",
        "attempts": 0,
        "created_at": instant(now),
        "next_attempt_at": instant(now),
        "lease_until": NEVER,
        "delivered_at": None,
        "last_error": None,
        "log": [],
    }


def last_word_document(word: LastWord) -> Document:
    """The ``told`` and ``held`` fields of a ``last_words`` document."""
    held = word.held
    if held is None:
        return {"told": word.told, "held": None}
    candidate = held.candidate
    return {
        "told": word.told,
        "held": {
            "notification_id": candidate.notification_id,
            "rule": candidate.rule,
            "unit_id": candidate.unit_id,
            "severity": candidate.severity,
            "condition": list(candidate.condition),
            "details": candidate.details,
            "suppressed_by": held.suppressed_by,
            "until": instant(held.until),
        },
    }


def last_word_of(document: Document) -> LastWord:
    held = document.get("held")
    if not held:
        return LastWord(document.get("told"))
    candidate = Candidate(
        rule=held["rule"],
        unit_id=held["unit_id"],
        severity=held["severity"],
        condition=tuple(held["condition"]),
        details=held["details"],
    )
    return LastWord(
        document.get("told"),
        Held(candidate, held["suppressed_by"], parse_instant(held["until"])),
    )
