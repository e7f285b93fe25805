"""decode_record against the contract's section 1 (envelope) and its dead-letter rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from shared.contract import EVENT_TYPES, PERSONNEL_TOPIC, UNITS_TOPIC, UnitRegistered
from shared.envelope import (
    MAX_RECORD_BYTES,
    PUBLISHED_CONTENT_TYPE,
    CloudEvent,
    Headers,
    InboundEvent,
    PoisonKind,
    PoisonRecord,
    decode_record,
    encode_binary,
    encode_structured,
    new_event,
)
from tests.samples import PERSON_ID, UNIT_ID, sample_event, sample_payload

CE_JSON = [("content-type", b"application/cloudevents+json")]
INBOUND_TYPES = sorted(EVENT_TYPES)
MODES = ["structured", "binary"]


def record(event: dict[str, Any], mode: str = "structured") -> tuple[bytes, Headers]:
    """The Kafka record of ``event`` in ``mode``, built by hand (not by the code under test)."""
    if mode == "structured":
        return json.dumps(event, ensure_ascii=False).encode(), CE_JSON
    headers = [
        (f"ce_{name}", str(value).encode())
        for name, value in event.items()
        if name not in ("data", "datacontenttype")
    ]
    headers.append(("content-type", b"application/json"))
    return json.dumps(event["data"], ensure_ascii=False).encode(), headers


def decode(event: dict[str, Any], mode: str = "structured") -> InboundEvent:
    return decode_record(EVENT_TYPES[event["type"]].topic, *record(event, mode))


def poison(topic: str, value: bytes | None, headers: Headers = CE_JSON) -> PoisonRecord:
    with pytest.raises(PoisonRecord) as caught:
        decode_record(topic, value, headers)
    assert "\n" not in str(caught.value)
    return caught.value


def assert_poison(
    event: dict[str, Any], kind: PoisonKind, mode: str = "structured", topic: str = ""
) -> str:
    error = poison(topic or EVENT_TYPES[event["type"]].topic, *record(event, mode))
    assert error.kind == kind, str(error)
    return str(error)


# --- every inbound type, both bindings -------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("event_type", INBOUND_TYPES)
def test_every_inbound_type_decodes(event_type: str, mode: str) -> None:
    event = sample_event(event_type)
    decoded = decode(event, mode)
    row = EVENT_TYPES[event_type]
    assert isinstance(decoded.payload, row.payload)
    assert decoded.payload == row.payload.model_validate(sample_payload(event_type))
    assert (decoded.source, decoded.id, decoded.type) == ("hrms/lang-son", event["id"], event_type)
    assert (decoded.subject, decoded.sequence) == (event["subject"], 42)
    assert decoded.time == datetime(2026, 3, 2, 2, 30, tzinfo=UTC)
    assert decoded.key == f"hrms/lang-son\x1f{event['id']}"


@pytest.mark.parametrize("event_type", INBOUND_TYPES)
def test_parity_encoders_round_trip(event_type: str) -> None:
    event = CloudEvent.model_validate(sample_event(event_type))
    expected = decode(sample_event(event_type))
    for value, headers in (encode_structured(event), encode_binary(event)):
        assert decode_record(EVENT_TYPES[event_type].topic, value, headers) == expected


def test_published_records_are_structured_with_the_cloudevents_content_type() -> None:
    data = {"unit_id": UNIT_ID, "parent_id": None}
    event = new_event(
        source="parity/test",
        type_="hr.unit.dissolved",
        subject=UNIT_ID,
        time=datetime(2026, 1, 1, tzinfo=UTC),
        data=data,
    )
    value, headers = encode_structured(event)
    assert headers == [("content-type", PUBLISHED_CONTENT_TYPE.encode())]
    assert json.loads(value)["data"] == data  # nulls inside data are kept


# --- what the decoder makes of the attributes ------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("time", "utc"),
    [
        ("2026-03-02T09:30:00+07:00", datetime(2026, 3, 2, 2, 30, tzinfo=UTC)),
        ("2026-03-02T00:00:00-05:00", datetime(2026, 3, 2, 5, 0, tzinfo=UTC)),
        ("2026-03-02T00:00:00.250Z", datetime(2026, 3, 2, 0, 0, 0, 250000, tzinfo=UTC)),
        (datetime(2026, 3, 2, 12, tzinfo=timezone(timedelta(hours=14))).isoformat(), None),
    ],
)
def test_time_is_converted_to_utc(time: str, utc: datetime | None, mode: str) -> None:
    decoded = decode(sample_event("hr.person.left", time=time), mode)
    assert decoded.time == (utc or datetime.fromisoformat(time))
    assert decoded.time.tzinfo is UTC


def test_sequence_is_parsed_to_an_int_and_is_optional() -> None:
    decoded = decode(sample_event("hr.person.left", sequence="0042"))
    assert decoded.sequence == 42
    assert isinstance(decoded.sequence, int)
    event = sample_event("hr.person.left")
    del event["sequence"]
    assert decode(event).sequence is None


@pytest.mark.parametrize("sequence", ["4a", "-1", "", "1.5", 42])
def test_a_sequence_that_is_not_a_decimal_string_is_rejected(sequence: object) -> None:
    assert_poison(sample_event("hr.person.left", sequence=sequence), "invalid_envelope")


@pytest.mark.parametrize("mode", MODES)
def test_unknown_extra_fields_in_data_are_ignored(mode: str) -> None:
    event = sample_event("hr.unit.registered")
    event["data"].update(short_name="TCCB", budget={"vnd": 10**12})
    payload = decode(event, mode).payload
    assert payload == UnitRegistered.model_validate(sample_payload("hr.unit.registered"))
    assert "short_name" not in payload.model_dump()


@pytest.mark.parametrize("mode", MODES)
def test_extension_attributes_are_accepted(mode: str) -> None:
    event = sample_event("inspection.started", traceparent="00-0af7651916cd43dd-b7ad6b-01")
    assert decode(event, mode).type == "inspection.started"


@pytest.mark.parametrize(
    "headers",
    [
        [("content-type", b"application/cloudevents+json; charset=utf-8")],
        [("Content-Type", b"Application/CloudEvents+JSON;charset=UTF-8")],
        [],
    ],
)
def test_structured_content_type_may_carry_a_charset_or_be_absent(headers: Headers) -> None:
    value, _ = record(sample_event("hr.person.left"))
    assert decode_record(PERSONNEL_TOPIC, value, headers).subject == PERSON_ID


@pytest.mark.parametrize("content_type", [b"text/plain", b"application/xml", b"application/avro"])
def test_a_content_type_that_is_not_json_is_rejected(content_type: bytes) -> None:
    value, _ = record(sample_event("hr.person.left"))
    error = poison(PERSONNEL_TOPIC, value, [("content-type", content_type)])
    assert error.kind == "invalid_envelope"


def test_structured_mode_with_extra_ce_headers_is_still_structured() -> None:
    # Kafka binding §3: a content-type prefixed application/cloudevents means structured
    # mode, and structured records MAY carry the binary-mode ce_* headers too (§3.3.3).
    value, _ = record(sample_event("hr.person.left"))
    headers = [*CE_JSON, ("ce_specversion", b"1.0"), ("ce_id", b"evt-1")]
    assert decode_record(PERSONNEL_TOPIC, value, headers).subject == PERSON_ID


# --- poison records: each kind ---------------------------------------------------------------


def test_no_value() -> None:
    assert poison(UNITS_TOPIC, None).kind == "no_value"


def test_a_value_over_1_mib_is_too_large_and_exactly_1_mib_is_not() -> None:
    event = sample_event("hr.unit.dissolved")
    event["data"]["padding"] = ""
    event["data"]["padding"] = "x" * (MAX_RECORD_BYTES - len(record(event)[0]))
    assert len(record(event)[0]) == MAX_RECORD_BYTES
    assert decode(event).subject == UNIT_ID
    event["data"]["padding"] += "x"
    assert poison(UNITS_TOPIC, record(event)[0]).kind == "too_large"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "value",
    [b"{not json", b"", b"\xff\xfe\x00", b'{"id": "a",', b"[]", b"[{}]", b'"text"', b"42", b"null"],
)
def test_invalid_json_or_not_an_object(value: bytes, mode: str) -> None:
    _, headers = record(sample_event("hr.unit.dissolved"), mode)
    assert poison(UNITS_TOPIC, value, headers).kind == "invalid_json"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("attribute", ["source", "type", "subject"])
def test_missing_required_attribute(attribute: str, mode: str) -> None:
    event = sample_event("hr.unit.dissolved")
    del event[attribute]
    message = assert_poison(event, "invalid_envelope", mode, topic=UNITS_TOPIC)
    assert attribute in message


@pytest.mark.parametrize("attribute", ["specversion", "id", "time", "data"])
def test_structured_mode_missing_required_attribute(attribute: str) -> None:
    event = sample_event("hr.unit.dissolved")
    del event[attribute]
    assert attribute in assert_poison(event, "invalid_envelope")


@pytest.mark.parametrize("attribute", ["id", "time", "specversion"])
def test_binary_mode_missing_id_time_or_specversion(attribute: str) -> None:
    event = sample_event("hr.unit.dissolved")
    del event[attribute]
    assert_poison(event, "invalid_envelope", "binary")


@pytest.mark.parametrize("mode", MODES)
def test_specversion_other_than_1_0(mode: str) -> None:
    assert_poison(sample_event("hr.unit.dissolved", specversion="0.3"), "invalid_envelope", mode)


@pytest.mark.parametrize("mode", MODES)
def test_id_of_128_printable_ascii_characters_is_accepted(mode: str) -> None:
    event_id = "~ !#" + "a" * 124
    assert decode(sample_event("hr.unit.dissolved", id=event_id), mode).id == event_id


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("event_id", ["a" * 129, "sự-kiện-1", "evt\t1", "evt\x7f"], ids=repr)
def test_bad_id(event_id: str, mode: str) -> None:
    assert_poison(sample_event("hr.unit.dissolved", id=event_id), "invalid_envelope", mode)


@pytest.mark.parametrize("event_id", ["", "evt\n1"], ids=repr)
def test_empty_id_or_control_character(event_id: str) -> None:
    assert_poison(sample_event("hr.unit.dissolved", id=event_id), "invalid_envelope")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("time", ["2026-03-02T09:30:00", "2026-03-02", "yesterday"])
def test_naive_or_unparseable_time(time: str, mode: str) -> None:
    assert_poison(sample_event("hr.unit.dissolved", time=time), "invalid_envelope", mode)


@pytest.mark.parametrize("time", [1772418600, "1772418600"])
def test_time_that_is_not_rfc3339_is_rejected(time: object) -> None:
    assert_poison(sample_event("hr.unit.dissolved", time=time), "invalid_envelope")


@pytest.mark.parametrize("subject", ["P 1", "P" * 65, ""])
def test_subject_must_be_an_identifier(subject: str) -> None:
    assert_poison(sample_event("hr.person.left", subject=subject), "invalid_envelope")


def test_unknown_type() -> None:
    event = sample_event("hr.unit.dissolved", type="hr.unit.renamed")
    assert "hr.unit.renamed" in assert_poison(event, "unknown_type", topic=UNITS_TOPIC)


@pytest.mark.parametrize(
    ("event_type", "wrong_topic"),
    [
        ("hr.unit.registered", PERSONNEL_TOPIC),
        ("hr.person.registered", UNITS_TOPIC),
        ("inspection.planned", PERSONNEL_TOPIC),
        ("parity.unit.indicators", UNITS_TOPIC),
    ],
)
def test_a_type_on_another_topic_is_unknown_there(event_type: str, wrong_topic: str) -> None:
    assert_poison(sample_event(event_type), "unknown_type", topic=wrong_topic)


@pytest.mark.parametrize(
    ("event_type", "field", "bad_value"),
    [
        ("hr.unit.registered", "level", "ministry"),
        ("hr.unit.registered", "parent_id", "U 1"),
        ("hr.person.registered", "gender", "f"),
        ("hr.person.registered", "birth_year", 1850),
        ("hr.person.left", "reason", "fired"),
        ("hr.position.appointed", "role", "chief"),
        ("hr.planning.added", "period", "2021"),
        ("hr.training.completed", "category", "sport"),
        ("inspection.planned", "scope", []),
        ("inspection.planned", "planned_end", "2026-03-31"),
        ("inspection.finding_recorded", "severity", "critical"),
        ("inspection.recommendation_issued", "due", "soon"),
        ("hr.person.transferred", "unit_id", "Ü-1"),
        ("hr.person.transferred", "unit_id", "U/1"),
        ("hr.person.transferred", "unit_id", ""),
    ],
)
def test_data_failing_validation(event_type: str, field: str, bad_value: object) -> None:
    event = sample_event(event_type)
    event["data"][field] = bad_value
    assert field in assert_poison(event, "invalid_data")


@pytest.mark.parametrize("event_type", INBOUND_TYPES)
def test_empty_data_is_valid_only_for_inspection_started(event_type: str) -> None:
    event = sample_event(event_type, data={})
    if event_type == "inspection.started":
        assert decode(event).type == event_type
    else:
        assert_poison(event, "invalid_data")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("event_type", sorted(t for t, r in EVENT_TYPES.items() if r.subject_field))
def test_subject_differing_from_the_data_id(event_type: str, mode: str) -> None:
    message = assert_poison(sample_event(event_type, subject="OTHER-1"), "invalid_data", mode)
    assert f"data.{EVENT_TYPES[event_type].subject_field}" in message


@pytest.mark.parametrize("data", [{"unit_id": UNIT_ID}, {"unit_id": UNIT_ID, "name": None}])
def test_unit_updated_with_no_field(data: dict[str, Any]) -> None:
    assert_poison(sample_event("hr.unit.updated", data=data), "invalid_data")


@pytest.mark.parametrize(
    ("field", "value"), [("name", "Phòng Nội vụ"), ("parent_id", "U-2"), ("level", "agency")]
)
def test_unit_updated_with_one_field(field: str, value: str) -> None:
    decoded = decode(sample_event("hr.unit.updated", data={"unit_id": UNIT_ID, field: value}))
    assert getattr(decoded.payload, field) == value


def test_name_of_200_characters_is_accepted_and_201_is_not() -> None:
    event = sample_event("hr.unit.registered")
    event["data"]["name"] = "Phòng " + "ạ" * 194
    assert len(event["data"]["name"]) == 200
    assert decode(event).payload == UnitRegistered.model_validate(event["data"])
    event["data"]["name"] += "ạ"
    assert_poison(event, "invalid_data")


def test_identifier_of_64_characters_is_accepted_and_65_is_not() -> None:
    unit_id = "U." + "0123456789:_-" * 4 + "a" * 10
    assert len(unit_id) == 64
    event = sample_event("hr.unit.dissolved", subject=unit_id, data={"unit_id": unit_id})
    assert decode(event).subject == unit_id
    longer = {"unit_id": unit_id + "b"}
    assert_poison(sample_event("hr.unit.dissolved", data=longer), "invalid_data")
    event = sample_event("hr.unit.dissolved", subject=longer["unit_id"], data=longer)
    assert_poison(event, "invalid_envelope")
