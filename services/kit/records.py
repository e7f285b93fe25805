"""What the kit hands to Kafka, and why a line or row was refused.

Both are plain values: the pure parts of the kit produce them, the producer sends them.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.envelope import PUBLISHED_CONTENT_TYPE, CloudEvent, decode_record, encode_structured

Header = tuple[str, bytes]
STRUCTURED_HEADERS: tuple[Header, ...] = (("content-type", PUBLISHED_CONTENT_TYPE.encode()),)


@dataclass(frozen=True, slots=True)
class OutboundRecord:
    """One Kafka record, already validated by the consumers' own decoder."""

    topic: str
    key: bytes  # the event's subject
    value: bytes
    headers: tuple[Header, ...]
    event_type: str


@dataclass(frozen=True, slots=True)
class Rejection:
    """A line of an events file or a row of a roster that publishes nothing, and why."""

    where: str  # e.g. "line 12" or "people row 7"
    reason: str  # one line
    subject: str = ""  # the person, unit or event subject, when known
    row: int = 0  # the line or row number


def checked_record(topic: str, event: CloudEvent) -> OutboundRecord:
    """Encode ``event`` in structured mode and decode it as a consumer would.

    Raises :class:`shared.envelope.PoisonRecord` when a consumer would dead-letter it.
    """
    value, headers = encode_structured(event)
    decoded = decode_record(topic, value, headers)
    return OutboundRecord(
        topic=topic,
        key=decoded.subject.encode(),
        value=value,
        headers=tuple(headers),
        event_type=decoded.type,
    )
