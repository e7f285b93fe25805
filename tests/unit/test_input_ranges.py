"""Values the contract's types allow but Python's calendar and BSON's integers do not: each
is refused on input, with a reason, instead of raising later inside a handler (where the
record would stop its partition instead of going to the dead-letter topic)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.envelope import PoisonRecord, decode_record, encode_structured, new_event
from shared.internal import UNIT_INSPECTION_STATUS, decode_change
from tests.samples import sample_event, sample_payload
from tests.unit.test_envelope import MODES, assert_poison, decode


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "time",
    [
        "0001-01-01T03:00:00+07:00",  # before year 1 in UTC: astimezone would overflow
        "9999-12-31T23:00:00-05:00",  # after year 9999 in UTC
        "1899-12-31T23:59:59Z",
        "3000-01-01T00:00:00Z",
    ],
)
def test_a_time_outside_the_plausible_years_is_refused(time: str, mode: str) -> None:
    reason = assert_poison(sample_event("hr.person.left", time=time), "invalid_envelope", mode)
    assert "year" in reason


@pytest.mark.parametrize("time", ["1900-01-01T00:00:00Z", "2999-12-31T23:59:59+07:00"])
def test_the_ends_of_the_plausible_years_are_accepted(time: str) -> None:
    assert decode(sample_event("hr.person.left", time=time)).time.year in (1900, 2999)


def test_a_sequence_beyond_64_bits_is_refused_and_the_largest_is_accepted() -> None:
    largest = str(2**63 - 1)
    assert decode(sample_event("hr.person.left", sequence=largest)).sequence == 2**63 - 1
    for too_big in (str(2**63), "9" * 20, "9" * 30):
        reason = assert_poison(sample_event("hr.person.left", sequence=too_big), "invalid_envelope")
        assert "sequence" in reason


@pytest.mark.parametrize(
    ("event_type", "field", "value"),
    [
        ("inspection.recommendation_issued", "due", "9999-12-31"),  # a "no deadline" sentinel
        ("inspection.recommendation_issued", "due", "0001-01-01"),
        ("inspection.planned", "planned_start", "1000-01-01"),
        ("inspection.planned", "planned_end", "9999-12-31"),
    ],
)
def test_an_inspection_date_outside_the_plausible_years_is_refused(
    event_type: str, field: str, value: str
) -> None:
    event = sample_event(event_type)
    event["data"][field] = value
    reason = assert_poison(event, "invalid_data")
    assert field in reason


def status_record(**changes: Any) -> bytes:
    data = {
        "unit_id": "D1",
        "revision": 3,
        "open_recommendations": [
            {"recommendation_id": "R1", "inspection_id": "I1", "due": "2026-10-01", "overdue": True}
        ],
        "inspected_years": [2026],
    }
    data.update(changes)
    event = new_event(
        source="parity/inspections",
        type_=UNIT_INSPECTION_STATUS,
        subject="D1",
        time=decode(sample_event("hr.person.left")).time,
        data=data,
    )
    return encode_structured(event)[0]


def test_a_valid_inspection_status_decodes() -> None:
    assert decode_change(status_record()).unit_id == "D1"  # type: ignore[union-attr]


@pytest.mark.parametrize("due", ["2026-02-30", "9999-12-31", "01/10/2026", "2026-10-1"])
def test_an_inspection_status_with_a_due_that_is_not_a_plausible_date_is_poison(
    due: str,
) -> None:
    rec = {"recommendation_id": "R1", "inspection_id": "I1", "due": due, "overdue": True}
    with pytest.raises(PoisonRecord) as caught:
        decode_change(status_record(open_recommendations=[rec]))
    assert caught.value.kind == "invalid_data"
    assert "due" in str(caught.value)


def test_an_inspection_status_of_a_unit_id_that_is_not_an_identifier_is_poison() -> None:
    with pytest.raises(PoisonRecord):
        decode_change(status_record(unit_id="D 1 / bad"))


def test_an_invalid_internal_record_is_explained_without_its_values() -> None:
    """The reason goes to the dead-letter headers and the log: no person's data in it."""
    payload = sample_payload("hr.person.registered")
    secret = "Nguyễn Thị Bí Mật"
    event = new_event(
        source="parity/personnel",
        type_="parity.person.changed",
        subject="P-77",
        time=decode(sample_event("hr.person.left")).time,
        data={"person_id": "P-77", "revision": "not a number", "full_name": secret, **payload},
    )
    with pytest.raises(PoisonRecord) as caught:
        decode_change(encode_structured(event)[0])
    assert "revision" in str(caught.value)
    assert secret not in str(caught.value)
    assert "P-77" not in str(caught.value).replace("parity.person.changed", "")


@pytest.mark.parametrize(
    "value",
    [b"[" * 200_000, b'{"id": ' + b"9" * 5000 + b"}"],
    ids=["nested-deeper-than-the-parser-goes", "an-integer-of-5000-digits"],
)
def test_json_the_parser_gives_up_on_is_poison_not_a_crash(value: bytes) -> None:
    """json.loads raises RecursionError or ValueError for these, not JSONDecodeError."""
    assert len(value) < 1024 * 1024
    with pytest.raises(PoisonRecord) as caught:
        decode_record("hr.personnel.v1", value, [("content-type", b"application/json")])
    assert caught.value.kind == "invalid_json"
