"""The annual report's tables, charts and page from a small history (no store)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.reporting.annual import build_report
from services.reporting.charts import Series, axis_maximum, line_chart
from services.reporting.history import Figure, UnitStatus
from services.reporting.page import render
from services.reporting.source import Recommendation
from shared.plans import Plan

KEY = "female_key_leader_division_share"
PLAN = Plan(
    id="test-plan",
    title="Kế hoạch thử",
    issued_by="UBND tỉnh",
    issued_on=date(2022, 3, 15),
    scope_unit_id="U-1",
    targets={KEY: {2025: 0.9, 2030: 0.95}},
)
UNITS = {  # unit → (name, level, parent)
    "U-1": ("UBND tỉnh", "province", None),
    "U-2": ("Sở Lao động", "agency", "U-1"),
    "U-3": ("Phòng A", "division", "U-2"),
    "U-4": ("Phòng B", "division", "U-2"),
    "U-5": ("Phòng C", "division", "U-2"),
}


def at(unit_id: str, version: int, when: datetime, numerator: int, denominator: int) -> UnitStatus:
    name, level, parent = UNITS[unit_id]
    share = Figure(numerator / denominator, numerator, denominator)
    count = Figure(float(version), version, None)
    indicators = {KEY: share, "ethnic_minority_female_leaders": count}
    return UnitStatus(unit_id, version, when, name, level, parent, True, indicators)


HISTORY = [
    at("U-1", 1, datetime(2023, 6, 1, tzinfo=UTC), 1, 2),
    at("U-2", 1, datetime(2023, 6, 1, tzinfo=UTC), 1, 2),
    at("U-3", 1, datetime(2023, 6, 1, tzinfo=UTC), 1, 1),
    at("U-4", 1, datetime(2023, 6, 1, tzinfo=UTC), 0, 1),
    at("U-1", 2, datetime(2024, 6, 1, tzinfo=UTC), 2, 3),
    at("U-5", 1, datetime(2024, 6, 1, tzinfo=UTC), 1, 1),
    at("U-1", 3, datetime(2025, 11, 1, tzinfo=UTC), 23, 25),
    at("U-2", 2, datetime(2025, 11, 1, tzinfo=UTC), 2, 3),
    at("U-1", 4, datetime(2025, 12, 31, 17, 0, tzinfo=UTC), 1, 4),  # 1 January in Vietnam
]
RECOMMENDATIONS = [
    Recommendation("U-3", date(2025, 6, 1), datetime(2025, 3, 1, tzinfo=UTC), None),
    Recommendation(
        "U-4", date(2025, 9, 1), datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 8, 1, tzinfo=UTC)
    ),
    Recommendation(
        "U-4", date(2026, 3, 1), datetime(2025, 9, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    ),
]


def test_targets_are_judged_on_the_value_as_of_the_date() -> None:
    report = build_report(PLAN, date(2025, 12, 31), HISTORY)
    (row,) = report.targets
    assert (row.scope_id, row.figure) == ("U-1", Figure(23 / 25, 23, 25))  # not version 4
    by_year = {c.year: c for c in row.milestones}
    assert (by_year[2025].met, by_year[2025].gap, by_year[2025].past) == (True, 0.0, False)
    assert by_year[2030].met is False
    assert by_year[2030].gap == pytest.approx(0.95 - 0.92)


def test_the_trend_is_the_value_at_the_end_of_each_year() -> None:
    report = build_report(PLAN, date(2025, 12, 31), HISTORY)
    assert report.years == (2023, 2024, 2025)
    assert report.trends[("U-1", KEY)] == [0.5, 2 / 3, 23 / 25]
    assert report.trends[("U-1", "ethnic_minority_female_leaders")] == [1.0, 2.0, 3.0]
    earlier = build_report(PLAN, date(2024, 3, 1), HISTORY)
    assert earlier.years == (2023, 2024)
    assert earlier.trends[("U-1", KEY)] == [0.5, 0.5]
    assert "U-5" not in earlier.tree.units  # registered later


def test_the_furthest_units_come_first_and_units_are_ranked_among_siblings() -> None:
    report = build_report(PLAN, date(2025, 12, 31), HISTORY)
    assert [(s.unit_id, round(s.gap, 3)) for s in report.shortfalls[KEY]] == [
        ("U-4", 0.9),
        ("U-2", round(0.9 - 2 / 3, 3)),
    ]
    first, last = report.benchmarks[("U-3", KEY)], report.benchmarks[("U-4", KEY)]
    assert (first.value, first.siblings_median, first.rank, first.peers) == (1.0, 0.5, 1, 3)
    assert (last.rank, last.peers, last.scope_value) == (3, 3, 23 / 25)


def test_recommendations_are_counted_as_they_stood_at_the_end_of_the_date() -> None:
    report = build_report(PLAN, date(2025, 12, 31), HISTORY, recommendations=RECOMMENDATIONS)
    assert report.recommendations is not None
    agency = report.recommendations["U-2"]
    assert (agency.issued, agency.resolved, agency.open, agency.overdue) == (3, 1, 2, 1)
    assert report.recommendations["U-5"].issued == 0


def test_the_page_is_vietnamese_self_contained_html_with_charts() -> None:
    page = render(build_report(PLAN, date(2025, 12, 31), HISTORY, recommendations=RECOMMENDATIONS))
    assert page.startswith("<!DOCTYPE html>")
    assert "Số liệu tính đến hết ngày 31/12/2025" in page
    assert page.count("<svg") >= 5
    assert "<script" not in page
    assert "Chưa đạt" in page
    assert "Đạt" in page
    assert "Phòng B" in page


def test_charts_break_their_lines_where_a_value_is_missing() -> None:
    svg = line_chart(
        "x", ["2023", "2024", "2025", "2026"], [Series("a", [0.1, 0.2, None, 0.4])], share=True
    )
    assert svg.count("<polyline") == 1  # the lone last point is a dot, not a line
    assert svg.count("<circle") == 3
    assert axis_maximum([37.0], share=False) == 50.0
    assert axis_maximum([0.3], share=True) == 1.0


def test_a_national_plan_covers_every_root() -> None:
    national = PLAN.model_copy(update={"id": "national", "scope_unit_id": None})
    other_root = UnitStatus(
        "X-1",
        1,
        datetime(2025, 1, 1, tzinfo=UTC),
        "Tỉnh khác",
        "province",
        None,
        True,
        {KEY: Figure(1.0, 1, 1)},
    )
    report = build_report(national, date(2025, 12, 31), [*HISTORY, other_root])
    assert report.scope_ids == ("U-1", "X-1")
    assert [(row.scope_id, row.milestones[0].met) for row in report.targets] == [
        ("U-1", True),
        ("X-1", True),
    ]
