"""History records as of a date: the latest record before the end of the day in Vietnam."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.reporting.history import (
    HistoryError,
    Tree,
    UnitStatus,
    end_of_day,
    parse_document,
    parse_record,
    snapshot,
    snapshots,
    utc_text,
)
from shared.documents import packed


def document(unit_id: str, version: int, as_of_utc: str, **extra: Any) -> dict[str, Any]:
    return {
        "_id": f"{unit_id}:{version}",
        "unit_id": unit_id,
        "version": version,
        "as_of": "ignored",
        "as_of_utc": as_of_utc,
        "name": extra.get("name", f"Đơn vị {unit_id}"),
        "level": extra.get("level", "division"),
        "parent_id": extra.get("parent_id"),
        "active": extra.get("active", True),
        "indicators": {
            "female_staff_share": {
                "value": 0.5,
                "numerator": version,
                "denominator": 2 * version,
                "target": None,
                "meets_target": None,
            },
            "open_recommendations": {"value": 3, "numerator": 3, "denominator": None},
        },
    }


def record(unit_id: str, version: int, as_of_utc: str, **extra: Any) -> UnitStatus:
    return parse_record(document(unit_id, version, as_of_utc, **extra))


def test_the_end_of_a_day_is_the_next_midnight_in_vietnam() -> None:
    assert end_of_day(date(2025, 12, 31)) == datetime(2025, 12, 31, 17, 0, tzinfo=UTC)
    assert utc_text(end_of_day(date(2025, 12, 31))) == "2025-12-31T17:00:00.000000+00:00"


def test_a_record_counts_for_the_day_it_was_published_on_in_vietnam() -> None:
    cutoff = end_of_day(date(2025, 12, 31))
    records = [
        record("U-1", 1, "2025-03-01T00:00:00.000000+00:00"),
        record("U-1", 2, "2025-12-31T16:59:59.999999+00:00"),  # 23:59:59 on the 31st
        record("U-1", 3, "2025-12-31T17:00:00.000000+00:00"),  # 00:00 on 1 January
        record("U-2", 1, "2026-01-05T00:00:00.000000+00:00"),  # not there yet
    ]
    found = snapshot(records, cutoff)
    assert {u: s.version for u, s in found.items()} == {"U-1": 2}
    assert found["U-1"].indicators["female_staff_share"].numerator == 2


def test_snapshots_at_several_cutoffs_in_one_pass_in_any_order() -> None:
    records = [record("U-1", v, f"202{v}-06-01T00:00:00.000000+00:00") for v in (1, 2, 3, 4)]
    cutoffs = [end_of_day(date(y, 12, 31)) for y in (2023, 2021, 2025)]
    assert [{u: s.version for u, s in found.items()} for found in snapshots(records, cutoffs)] == [
        {"U-1": 3},
        {"U-1": 1},
        {"U-1": 4},
    ]


def test_a_count_has_no_denominator_and_a_bad_document_is_named() -> None:
    status = record("U-1", 1, "2025-01-01T00:00:00.000000+00:00")
    assert status.indicators["open_recommendations"].denominator is None
    broken = document("U-9", 4, "2025-01-01T00:00:00")  # no offset
    with pytest.raises(HistoryError, match="U-9:4"):
        parse_record(broken)
    with pytest.raises(HistoryError, match="U-9:4"):
        parse_record({k: v for k, v in broken.items() if k != "indicators"})


def test_a_record_reads_the_same_with_its_indicators_packed_as_stored_or_not() -> None:
    plain = document("U-1", 2, "2025-01-01T00:00:00.000000+00:00")
    stored = plain | {"indicators": bytes(packed(plain["indicators"]))}  # as PyMongo reads it
    assert parse_record(stored) == parse_record(plain)
    assert parse_record(stored).indicators["female_staff_share"].denominator == 4
    with pytest.raises(HistoryError, match="U-1:2"):
        parse_record(plain | {"indicators": "not a document"})


def test_a_page_is_read_as_its_records_and_a_record_of_before_pages_as_itself() -> None:
    at = "2025-01-01T00:00:00.000000+00:00"
    entries = []
    for unit_id, version in (("U-1", 3), ("U-2", 1)):
        entry = {k: v for k, v in document(unit_id, version, at).items() if k != "as_of_utc"}
        entries.append({k: v for k, v in entry.items() if k not in ("_id", "as_of")})
    page = {
        "_id": "page:000000000007",
        "page": 7,
        "as_of": "ignored",
        "as_of_utc": at,
        "records": bytes(packed({"records": entries})),  # as PyMongo reads it
    }
    assert parse_document(page) == [record("U-1", 3, at), record("U-2", 1, at)]
    assert parse_document(document("U-1", 2, at)) == [record("U-1", 2, at)]
    with pytest.raises(HistoryError, match="page:000000000007"):
        parse_document(page | {"records": b"not bson"})
    with pytest.raises(HistoryError, match="page:000000000007 U-2"):
        parse_document(page | {"records": packed({"records": [entries[0], {"unit_id": "U-2"}]})})


def test_the_tree_of_a_snapshot_follows_its_parent_links_and_skips_closed_units() -> None:
    at = "2025-01-01T00:00:00.000000+00:00"
    statuses = {
        s.unit_id: s
        for s in (
            record("U-1", 1, at, level="province", name="Tỉnh"),
            record("U-2", 1, at, level="agency", parent_id="U-1", name="Sở B"),
            record("U-3", 1, at, level="agency", parent_id="U-1", name="Sở A"),
            record("U-4", 1, at, parent_id="U-2", name="Phòng"),
            record("U-5", 1, at, parent_id="U-2", name="Phòng cũ", active=False),
            record("U-6", 1, at, level="public_service_unit", parent_id="U-2", name="Trung tâm"),
        )
    }
    tree = Tree.of(statuses)
    assert tree.roots() == ["U-1"]
    assert tree.subtree("U-1") == ["U-1", "U-3", "U-2", "U-4", "U-6"]  # children by name
    assert tree.siblings("U-2") == ["U-3"]
    assert tree.siblings("U-4") == []  # the centre is not a division
    assert tree.depth("U-4") == 2
    assert tree.subtree("U-5") == []
