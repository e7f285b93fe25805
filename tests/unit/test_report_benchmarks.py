"""Section VI draws the milestone in force, as section III judges by it."""

from __future__ import annotations

from datetime import date

import pytest

from services.reporting.annual import build_report
from services.reporting.page import render
from tests.unit.test_report_annual import HISTORY, KEY, PLAN


@pytest.mark.parametrize(
    ("as_of", "in_force", "other"),
    [
        (date(2025, 12, 31), "Mục tiêu 2025: 90,0%", "Mục tiêu 2030"),
        (date(2026, 1, 1), "Mục tiêu 2030: 95,0%", "Mục tiêu 2025"),
    ],
)
def test_the_bar_charts_draw_the_milestone_in_force(as_of: date, in_force: str, other: str) -> None:
    report = build_report(PLAN, as_of, HISTORY)
    section_iii = render(report).split("<h2>III.")[1].split("<h2>IV.")[0]
    section_vi = render(report).split("<h2>VI.")[1]
    year = int(in_force.split()[2].rstrip(":"))
    assert {s.target_year for s in report.shortfalls[KEY]} == {year}
    assert f"({year})" in section_iii
    assert in_force in section_vi
    assert other not in section_vi
