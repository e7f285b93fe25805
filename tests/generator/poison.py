"""Records that belong on the dead-letter topic, one maker per way of being wrong. Each
maker names the ``PoisonKind`` that ``shared.envelope.decode_record`` raises for it."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared.contract import PERSONNEL_TOPIC, UNITS_TOPIC
from shared.envelope import MAX_RECORD_BYTES, PUBLISHED_CONTENT_TYPE
from tests.generator.model import Record
from tests.generator.state import HR_SOURCE

STRUCTURED = [("content-type", PUBLISHED_CONTENT_TYPE.encode())]


class Ingredients:
    """What a maker may use: a fresh id, a plausible person or unit, an instant."""

    def __init__(
        self,
        rng: random.Random,
        namespace: uuid.UUID,
        units: list[str],
        people: list[str],
        low: datetime,
        high: datetime,
    ) -> None:
        self.rng, self.namespace, self.units, self.people = rng, namespace, units, people
        self.low, self.high, self.count = low, high, 0

    def event_id(self) -> str:
        self.count += 1
        return str(uuid.uuid5(self.namespace, f"poison/{self.count}"))

    def time(self) -> str:
        instant = self.low + (self.high - self.low) * self.rng.random()
        return instant.replace(microsecond=0).isoformat()

    def person(self) -> str:
        return self.rng.choice(self.people)

    def unit(self) -> str:
        return self.rng.choice(self.units)

    def envelope(self, type_: str, subject: str, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "specversion": "1.0",
            "id": self.event_id(),
            "source": HR_SOURCE,
            "type": type_,
            "subject": subject,
            "time": self.time(),
            "datacontenttype": "application/json",
            "data": data,
        }

    def registration(self, **changes: Any) -> dict[str, Any]:
        person = self.person()
        data = {
            "person_id": person,
            "gender": "female",
            "ethnic_minority": True,
            "category": "civil_servant",
            "unit_id": self.unit(),
            "birth_year": 1985,
        }
        return self.envelope("hr.person.registered", person, {**data, **changes})


Made = tuple[str, str, bytes, list[tuple[str, bytes]], str]  # topic, key, value, headers, kind
Maker = Callable[[Ingredients], Made]


def _json(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope, ensure_ascii=False).encode()


def _structured(topic: str, envelope: dict[str, Any], kind: str) -> Made:
    return topic, str(envelope.get("subject", "")), _json(envelope), list(STRUCTURED), kind


def _binary(topic: str, envelope: dict[str, Any], kind: str) -> Made:
    headers = [
        (f"ce_{k}", str(v).encode())
        for k, v in envelope.items()
        if k not in ("data", "datacontenttype")
    ]
    headers.append(("content-type", b"application/json"))
    value = json.dumps(envelope["data"], ensure_ascii=False).encode()
    return topic, str(envelope["subject"]), value, headers, kind


def _without(envelope: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in envelope.items() if k != name}


def _garbage(i: Ingredients) -> Made:
    return PERSONNEL_TOPIC, i.person(), b"\x00\x01 not json {", list(STRUCTURED), "invalid_json"


def _truncated(i: Ingredients) -> Made:
    value = _json(i.registration())
    return PERSONNEL_TOPIC, i.person(), value[: len(value) // 2], list(STRUCTURED), "invalid_json"


def _array(i: Ingredients) -> Made:
    value = b"[" + _json(i.registration()) + b"]"
    return PERSONNEL_TOPIC, i.person(), value, list(STRUCTURED), "invalid_json"


def _no_id(i: Ingredients) -> Made:
    return _structured(PERSONNEL_TOPIC, _without(i.registration(), "id"), "invalid_envelope")


def _no_source(i: Ingredients) -> Made:
    return _structured(PERSONNEL_TOPIC, _without(i.registration(), "source"), "invalid_envelope")


def _non_ascii_id(i: Ingredients) -> Made:
    envelope = {
        **i.envelope("hr.unit.updated", "U-0001", {"unit_id": "U-0001", "name": "x"}),
        "id": "sự-kiện-001",
    }
    return _structured(UNITS_TOPIC, envelope, "invalid_envelope")


def _naive_time(i: Ingredients) -> Made:
    envelope = {**i.registration(), "time": "2024-03-01T08:00:00"}
    return _structured(PERSONNEL_TOPIC, envelope, "invalid_envelope")


def _naive_time_binary(i: Ingredients) -> Made:
    return _binary(
        PERSONNEL_TOPIC, {**i.registration(), "time": "2024-03-01T08:00:00"}, "invalid_envelope"
    )


def _old_specversion(i: Ingredients) -> Made:
    envelope = {**i.registration(), "specversion": "0.3"}
    return _structured(PERSONNEL_TOPIC, envelope, "invalid_envelope")


def _wrong_content_type(i: Ingredients) -> Made:
    topic, key, value, _, _ = _structured(PERSONNEL_TOPIC, i.registration(), "")
    return topic, key, value, [("content-type", b"text/plain")], "invalid_envelope"


def _unknown_type(i: Ingredients) -> Made:
    envelope = i.envelope("hr.person.promoted", i.person(), {"unit_id": i.unit()})
    return _structured(PERSONNEL_TOPIC, envelope, "unknown_type")


def _unit_type_on_personnel(i: Ingredients) -> Made:
    data = {"unit_id": "U-9999", "name": "Phòng Nội vụ", "parent_id": None, "level": "agency"}
    envelope = i.envelope("hr.unit.registered", "U-9999", data)
    return _structured(PERSONNEL_TOPIC, envelope, "unknown_type")


def _inspection_type_binary(i: Ingredients) -> Made:
    envelope = i.envelope("inspection.planned", i.unit(), {"inspection_id": "I-1"})
    return _binary(UNITS_TOPIC, envelope, "unknown_type")


def _bad_gender(i: Ingredients) -> Made:
    return _structured(PERSONNEL_TOPIC, i.registration(gender="nữ"), "invalid_data")


def _bad_category_binary(i: Ingredients) -> Made:
    return _binary(PERSONNEL_TOPIC, i.registration(category="contractor"), "invalid_data")


def _bad_unit_id(i: Ingredients) -> Made:
    envelope = i.envelope("hr.person.transferred", i.person(), {"unit_id": "U 0001/Phòng"})
    return _structured(PERSONNEL_TOPIC, envelope, "invalid_data")


def _long_name(i: Ingredients) -> Made:
    data = {
        "unit_id": "U-9998",
        "name": "Phòng " + "Quản lý nhà nước về " * 12,
        "parent_id": i.unit(),
        "level": "division",
    }
    return _structured(
        UNITS_TOPIC, i.envelope("hr.unit.registered", "U-9998", data), "invalid_data"
    )


def _subject_mismatch(i: Ingredients) -> Made:
    envelope = i.registration()
    envelope["data"] = {**envelope["data"], "person_id": "P-X99999"}
    return _structured(PERSONNEL_TOPIC, envelope, "invalid_data")


def _empty_update(i: Ingredients) -> Made:
    unit = i.unit()
    envelope = i.envelope("hr.unit.updated", unit, {"unit_id": unit})
    return _structured(UNITS_TOPIC, envelope, "invalid_data")


MAKERS: tuple[Maker, ...] = (
    _garbage,
    _no_id,
    _bad_gender,
    _unknown_type,
    _truncated,
    _naive_time,
    _bad_unit_id,
    _unit_type_on_personnel,
    _non_ascii_id,
    _long_name,
    _array,
    _old_specversion,
    _subject_mismatch,
    _bad_category_binary,
    _no_source,
    _empty_update,
    _naive_time_binary,
    _inspection_type_binary,
    _wrong_content_type,
)


def _too_large(i: Ingredients) -> Made:
    envelope = i.registration()
    envelope["data"]["attachment"] = "A" * (MAX_RECORD_BYTES + 1)  # a scanned CV, inlined
    return PERSONNEL_TOPIC, envelope["subject"], _json(envelope), list(STRUCTURED), "too_large"


def poison_records(ingredients: Ingredients, count: int) -> list[Record]:
    """``count`` poison records cycling through every maker; one too-large record at most,
    only when there are at least two."""
    chosen = [MAKERS[n % len(MAKERS)] for n in range(count - 1 if count >= 2 else count)]
    if count >= 2:
        chosen.append(_too_large)
    records = []
    for maker in chosen:
        topic, key, value, headers, kind = maker(ingredients)
        records.append(Record(topic, key.encode(), value, headers, kind, None))
    return records
