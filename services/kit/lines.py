"""Lines of an events file (JSON Lines, one structured-mode CloudEvent a line), checked with
exactly the rules the consumers apply (:func:`shared.envelope.decode_record`).

Pure: bytes in, an :class:`OutboundRecord` or a :class:`Rejection` out.
"""

from __future__ import annotations

import json

from services.kit.records import STRUCTURED_HEADERS, OutboundRecord, Rejection
from shared.contract import EVENT_TYPES
from shared.envelope import MAX_RECORD_BYTES, PoisonRecord, decode_record


def topic_of(line: bytes) -> str:
    """The topic a line belongs on, decided by its event ``type``; raises PoisonRecord."""
    if len(line) > MAX_RECORD_BYTES:  # checked before parsing, as the consumers do
        raise PoisonRecord("too_large", f"line of {len(line)} bytes exceeds the 1 MiB limit")
    try:
        raw = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PoisonRecord("invalid_json", f"line is not valid JSON: {error}") from None
    if not isinstance(raw, dict):
        raise PoisonRecord("invalid_json", "line is not a JSON object")
    event_type = raw.get("type")
    if not isinstance(event_type, str):
        raise PoisonRecord("invalid_envelope", "line has no string attribute 'type'")
    row = EVENT_TYPES.get(event_type)
    if row is None:
        raise PoisonRecord("unknown_type", f"unknown type {event_type!r}")
    return row.topic


def check_line(line_no: int, line: bytes) -> OutboundRecord | Rejection:
    """Validate one non-blank line; the record keeps the line's exact bytes as its value."""
    value = line.strip()
    try:
        topic = topic_of(value)
        event = decode_record(topic, value, STRUCTURED_HEADERS)
    except PoisonRecord as poison:
        return Rejection(f"line {line_no}", f"{poison.kind}: {poison}", row=line_no)
    return OutboundRecord(
        topic=topic,
        key=event.subject.encode(),
        value=value,
        headers=STRUCTURED_HEADERS,
        event_type=event.type,
    )


def is_blank(line: bytes) -> bool:
    return not line.strip()
