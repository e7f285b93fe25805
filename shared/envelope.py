"""CloudEvents 1.0 envelope in both Kafka bindings, with the contract's limits.

Inbound records are decoded by :func:`decode_record`; anything that is not a valid event of
its topic raises :class:`PoisonRecord` with a one-line reason, which the caller routes to the
dead-letter topic. Structured mode is parsed with pydantic straight from the bytes (the hot
path); binary mode goes through the CloudEvents SDK's Kafka binding for the ``ce_*`` headers.
Parity itself publishes in structured mode (:func:`encode_structured`).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from shared.contract import EVENT_TYPES, Identifier, Payload, plausible_year, types_of_topic

MAX_RECORD_BYTES = 1024 * 1024
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
PUBLISHED_CONTENT_TYPE = f"{STRUCTURED_CONTENT_TYPE}; charset=utf-8"


def _fits_64_bits(value: str) -> str:
    if int(value) >= 2**63:
        raise ValueError("sequence must be below 2^63")
    return value


EventId = Annotated[str, StringConstraints(pattern=r"^[\x20-\x7e]{1,128}$")]
# A decimal integer that fits a signed 64-bit integer, as histories store it (at most
# 9,223,372,036,854,775,807): a longer one is refused on input, not when it is stored.
Sequence_ = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{1,19}$"),
    AfterValidator(_fits_64_bits),
    Field(description="a decimal integer below 2^63"),
]

Headers = Sequence[tuple[str, bytes]]

# RFC 3339 date-time with a mandatory offset: the contract's `time` is never naive.
RFC3339_WITH_OFFSET = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
_RFC3339 = re.compile(RFC3339_WITH_OFFSET)


def _rfc3339(value: object) -> object:
    """Only an RFC 3339 string (or an already parsed datetime) is a time; pydantic alone
    would also read a number as a Unix timestamp."""
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339.match(value)):
        return value
    raise ValueError("time must be an RFC 3339 timestamp with an offset")


Rfc3339Time = Annotated[AwareDatetime, BeforeValidator(_rfc3339), AfterValidator(plausible_year)]
# Binary mode: the CloudEvents SDK fills these in when they are missing; we reject instead.
_REQUIRED_BINARY_HEADERS = ("ce_specversion", "ce_id", "ce_time")


class CloudEvent(BaseModel):
    """The envelope attributes (contract section 1). Extension attributes are kept, unread."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"]
    id: EventId
    source: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    type: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    subject: Identifier
    time: Rfc3339Time
    sequence: Sequence_ | None = None
    datacontenttype: str | None = None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """A validated inbound event: the envelope's facts plus its typed payload."""

    source: str
    id: str
    type: str
    subject: str
    time: datetime  # effective time, in UTC
    sequence: int | None
    payload: Payload

    @property
    def key(self) -> str:
        """The idempotency key: (source, id)."""
        return f"{self.source}\x1f{self.id}"


PoisonKind = Literal[
    "no_value", "too_large", "invalid_json", "invalid_envelope", "unknown_type", "invalid_data"
]


class PoisonRecord(Exception):
    """A record that can never be processed; its message is the one-line reason.

    ``kind`` is a bounded label for metrics; the message carries the detail.
    """

    def __init__(self, kind: PoisonKind, reason: str) -> None:
        super().__init__(one_line(reason))
        self.kind: PoisonKind = kind


def one_line(text: str, limit: int = 500) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def validation_reason(prefix: str, error: ValidationError) -> str:
    """Where validation failed and why, without the values: they may be a person's data."""
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{where}: {item['msg']}")
    return f"{prefix}: " + "; ".join(parts)


def _header(headers: Headers, name: str) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _is_binary_mode(headers: Headers) -> bool:
    """Kafka binding section 3: a ``application/cloudevents`` content type means structured
    mode, even when ``ce_*`` headers ride along; otherwise ``ce_*`` headers mean binary."""
    content_type = _header(headers, "content-type")
    if content_type is not None and content_type.lower().startswith(b"application/cloudevents"):
        return False
    return any(key.lower().startswith("ce_") for key, _ in headers)


def _structured_envelope(value: bytes, headers: Headers) -> CloudEvent:
    content_type = _header(headers, "content-type")
    if content_type is not None:
        media_type = content_type.decode("utf-8", "replace").split(";")[0].strip().lower()
        if media_type not in (STRUCTURED_CONTENT_TYPE, "application/json"):
            raise PoisonRecord(
                "invalid_envelope",
                f"structured mode needs {STRUCTURED_CONTENT_TYPE}, got {media_type}",
            )
    try:
        raw = json.loads(value)
    except (ValueError, RecursionError) as error:
        # ValueError: not UTF-8, not JSON, or an integer of more digits than Python reads;
        # RecursionError: nested deeper than the parser goes
        raise PoisonRecord(
            "invalid_json", f"value is not valid JSON: {type(error).__name__}: {error}"[:300]
        ) from None
    if not isinstance(raw, dict):
        raise PoisonRecord("invalid_json", "value is not a JSON object")
    try:
        return CloudEvent.model_validate(raw)
    except ValidationError as error:
        raise PoisonRecord(
            "invalid_envelope", validation_reason("not a valid CloudEvent", error)
        ) from None


def _binary_envelope(value: bytes, headers: Headers) -> CloudEvent:
    present = {key.lower() for key, _ in headers}
    missing = [name for name in _REQUIRED_BINARY_HEADERS if name not in present]
    if missing:
        raise PoisonRecord("invalid_envelope", f"binary mode without {', '.join(missing)}")
    message = ce_kafka.KafkaMessage(headers=dict(headers), key=None, value=value)
    try:
        sdk_event = ce_kafka.from_binary(message, JSONFormat())
    except Exception as error:  # the SDK raises plain ValueError/TypeError/JSON errors
        raise PoisonRecord(
            "invalid_envelope", f"not a valid binary-mode CloudEvent: {error}"
        ) from None
    attributes = dict(sdk_event.get_attributes())
    attributes.pop("partitionkey", None)
    data = sdk_event.get_data()
    if not isinstance(data, dict):
        raise PoisonRecord("invalid_json", "binary-mode data is not a JSON object")
    try:
        return CloudEvent.model_validate({**attributes, "data": data})
    except ValidationError as error:
        raise PoisonRecord(
            "invalid_envelope", validation_reason("not a valid CloudEvent", error)
        ) from None


def decode_envelope(value: bytes | None, headers: Headers) -> CloudEvent:
    """The CloudEvent of one Kafka record in either binding (contract section 1), or raise
    :class:`PoisonRecord`; its ``data`` is not checked."""
    if value is None:
        raise PoisonRecord("no_value", "record has no value")
    if len(value) > MAX_RECORD_BYTES:
        raise PoisonRecord(
            "too_large", f"record value of {len(value)} bytes exceeds the 1 MiB limit"
        )
    if _is_binary_mode(headers):
        return _binary_envelope(value, headers)
    return _structured_envelope(value, headers)


def decode_record(topic: str, value: bytes | None, headers: Headers) -> InboundEvent:
    """Decode one Kafka record of an inbound topic, or raise :class:`PoisonRecord`."""
    envelope = decode_envelope(value, headers)
    if envelope.type not in types_of_topic(topic):
        raise PoisonRecord("unknown_type", f"unknown type {envelope.type!r} on {topic}")
    row = EVENT_TYPES[envelope.type]
    try:
        payload = row.payload.model_validate(envelope.data)
    except ValidationError as error:
        raise PoisonRecord(
            "invalid_data", validation_reason(f"data of {envelope.type} is invalid", error)
        ) from None
    if row.subject_field and getattr(payload, row.subject_field) != envelope.subject:
        raise PoisonRecord(
            "invalid_data", f"subject {envelope.subject!r} differs from data.{row.subject_field}"
        )
    return InboundEvent(
        source=envelope.source,
        id=envelope.id,
        type=envelope.type,
        subject=envelope.subject,
        time=envelope.time.astimezone(UTC),
        sequence=int(envelope.sequence) if envelope.sequence is not None else None,
        payload=payload,
    )


def new_event(
    *,
    source: str,
    type_: str,
    subject: str,
    time: datetime,
    data: dict[str, Any],
    event_id: str | None = None,
    sequence: int | None = None,
) -> CloudEvent:
    """Build an outbound (or test) event; ``time`` must be timezone-aware."""
    return CloudEvent(
        specversion="1.0",
        id=event_id or str(uuid.uuid4()),
        source=source,
        type=type_,
        subject=subject,
        time=time,
        sequence=str(sequence) if sequence is not None else None,
        datacontenttype="application/json",
        data=data,
    )


def encode_structured(event: CloudEvent) -> tuple[bytes, list[tuple[str, bytes]]]:
    """Structured mode: the value is the whole event, the content type says so."""
    value = event.model_dump_json(exclude_none=True).encode()
    return value, [("content-type", PUBLISHED_CONTENT_TYPE.encode())]


def encode_binary(event: CloudEvent) -> tuple[bytes, list[tuple[str, bytes]]]:
    """Binary mode (used by tests and the HR kit): attributes in ``ce_*`` headers."""
    attributes = event.model_dump(mode="json", exclude_none=True, exclude={"data"})
    headers = [(f"ce_{name}", str(value).encode()) for name, value in attributes.items()]
    headers = [h for h in headers if h[0] != "ce_datacontenttype"]
    headers.append(("content-type", b"application/json"))
    return json.dumps(event.data, ensure_ascii=False).encode(), headers
