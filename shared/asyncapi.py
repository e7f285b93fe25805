"""An AsyncAPI 3.0 document per service, from one table of what each consumes and publishes.

Written out by ``python -m shared.schemas`` as ``schemas/asyncapi/<service>.json`` and checked
in CI like the event schemas. A contract event's payload refers to its file under
``schemas/events/``; an internal event's payload (``shared/internal.py``) is written inline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from shared.contract import (
    EVENT_TYPES,
    INDICATORS_TOPIC,
    INSPECTIONS_TOPIC,
    NOTIFICATIONS_TOPIC,
    PERSONNEL_TOPIC,
    UNITS_TOPIC,
    dead_letter_topic,
)
from shared.envelope import STRUCTURED_CONTENT_TYPE
from shared.internal import (
    INSPECTION_STATUS_TOPIC,
    PEOPLE_CHANGES_TOPIC,
    PERSON_CHANGED,
    UNIT_CHANGED,
    UNIT_CHANGES_TOPIC,
    UNIT_INSPECTION_STATUS,
    PersonChanged,
    UnitChanged,
    UnitInspectionStatus,
)
from shared.outbound import INDICATORS_EVENT_TYPE, NOTIFICATION_EVENT_TYPE

# service -> (topics consumed, topics published); every consumed inbound topic also has
# its dead-letter topic among the published ones.
SERVICES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "personnel": (
        (UNITS_TOPIC, PERSONNEL_TOPIC),
        (UNIT_CHANGES_TOPIC, PEOPLE_CHANGES_TOPIC),
    ),
    "indicators": (
        (UNIT_CHANGES_TOPIC, PEOPLE_CHANGES_TOPIC, INSPECTION_STATUS_TOPIC),
        (INDICATORS_TOPIC,),
    ),
    "inspections": ((INSPECTIONS_TOPIC, UNIT_CHANGES_TOPIC), (INSPECTION_STATUS_TOPIC,)),
    "notifications": (
        (INDICATORS_TOPIC, INSPECTION_STATUS_TOPIC, PEOPLE_CHANGES_TOPIC, UNIT_CHANGES_TOPIC),
        (NOTIFICATIONS_TOPIC,),
    ),
}
INTERNAL: dict[str, tuple[str, type[BaseModel], str]] = {
    PEOPLE_CHANGES_TOPIC: (PERSON_CHANGED, PersonChanged, "person_id"),
    UNIT_CHANGES_TOPIC: (UNIT_CHANGED, UnitChanged, "unit_id"),
    INSPECTION_STATUS_TOPIC: (UNIT_INSPECTION_STATUS, UnitInspectionStatus, "unit_id"),
}
OUTBOUND = {INDICATORS_TOPIC: INDICATORS_EVENT_TYPE, NOTIFICATIONS_TOPIC: NOTIFICATION_EVENT_TYPE}

# (event type, topic, payload model, subject field) -> the JSON Schema of the whole event
EventSchema = Callable[[str, str, type[BaseModel], str | None], dict[str, Any]]


def _messages(topic: str, event_schema: EventSchema) -> dict[str, Any]:
    """message id -> message, for the events a topic carries."""
    if topic in INTERNAL:
        type_, model, subject = INTERNAL[topic]
        return {type_: {"payload": event_schema(type_, topic, model, subject)}}
    types = [t for t, row in EVENT_TYPES.items() if row.topic == topic]
    types += [OUTBOUND[topic]] if topic in OUTBOUND else []
    return {t: {"payload": {"$ref": f"../events/{t}.json"}} for t in sorted(types)}


def _dead_letters(topic: str) -> dict[str, Any]:
    return {
        "dead_letter": {
            "summary": "The record as received, unchanged, with headers parity_error (why, one "
            "line) and parity_failed_at (RFC 3339)."
        }
    }


def service_document(service: str, event_schema: EventSchema) -> dict[str, Any]:
    consumes, publishes = SERVICES[service]
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}

    def channel(topic: str, topic_messages: dict[str, Any]) -> None:
        for message_id, message in topic_messages.items():
            messages[message_id] = {
                "name": message_id,
                "contentType": STRUCTURED_CONTENT_TYPE,
                **message,
            }
        channels[topic] = {
            "address": topic,
            "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in topic_messages},
        }

    for topic in consumes:
        channel(topic, _messages(topic, event_schema))
        operations[f"receive {topic}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{topic}"},
        }
        if topic not in INTERNAL:
            dlq = dead_letter_topic(topic)
            channel(dlq, _dead_letters(topic))
            operations[f"send {dlq}"] = {"action": "send", "channel": {"$ref": f"#/channels/{dlq}"}}
    for topic in publishes:
        channel(topic, _messages(topic, event_schema))
        operations[f"send {topic}"] = {"action": "send", "channel": {"$ref": f"#/channels/{topic}"}}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": f"Parity {service} service", "version": "1.0.0"},
        "defaultContentType": STRUCTURED_CONTENT_TYPE,
        "servers": {"local": {"host": "127.0.0.1:9092", "protocol": "kafka"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def service_documents(event_schema: EventSchema) -> dict[str, dict[str, Any]]:
    return {service: service_document(service, event_schema) for service in SERVICES}
