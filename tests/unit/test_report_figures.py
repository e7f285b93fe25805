"""Figures shown beside a target never contradict the verdict (Đạt / Chưa đạt)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from services.kit.commands.report import figure_lines
from services.reporting.annual import build_report
from services.reporting.history import Figure
from services.reporting.page import render
from services.reporting.runs import ReportFiles
from services.reporting.vocabulary import decimals_for, percent, points
from tests.unit.test_report_annual import HISTORY, KEY, PLAN

TARGETS = (0.4, 0.5, 0.6, 0.75, 0.9, 0.95)  # those of the shipped plans


def number(text: str) -> Decimal:
    return Decimal(text.split("%")[0].split(" ")[0].replace(",", "."))


def test_449_of_499_does_not_read_as_90_percent_against_a_90_percent_target() -> None:
    value = 449 / 499
    assert percent(value) == "90,0%"  # no target beside it: one decimal
    assert percent(value, [0.9]) == "89,98%"
    assert points(0.9 - value, decimals_for(value, [0.9])) == "0,02 điểm %"
    assert percent(0.9, [0.9]) == "90,0%"  # met exactly
    assert percent(value, [0.9, 0.95]) == "89,98%"  # the same in every milestone's row


def test_past_three_decimals_a_missed_target_is_rounded_down() -> None:
    value = 8_999_999 / 10_000_000
    assert percent(value, [0.9]) == "89,999%"
    assert points(0.9 - value, decimals_for(value, [0.9])) == "0,001 điểm %"


@pytest.mark.parametrize("target", TARGETS)
def test_no_share_of_up_to_1000_reads_as_its_verdict_says_it_is_not(target: float) -> None:
    for denominator in range(1, 1001):
        near = round(target * denominator)  # where rounding could contradict the verdict
        for numerator in range(max(0, near - 2), min(denominator, near + 2) + 1):
            value = numerator / denominator
            shown = number(percent(value, [target]))
            goal = number(percent(target))
            if value >= target:
                assert shown >= goal, (numerator, denominator)
            else:
                assert shown < goal, (numerator, denominator)
                gap = number(points(target - value, decimals_for(value, [target])))
                assert gap > 0, (numerator, denominator)


def test_the_page_and_the_summary_show_a_missed_target_below_it() -> None:
    late = datetime(2025, 11, 2, tzinfo=UTC)
    figures = {KEY: Figure(449 / 499, 449, 499)}
    scope = replace(HISTORY[6], version=9, instant=late, indicators=figures)  # U-1
    division = replace(HISTORY[2], version=9, instant=late, indicators=figures)  # U-3
    report = build_report(PLAN, date(2025, 12, 31), [*HISTORY, scope, division])
    page = render(report)
    section_i = page.split("<h2>I.")[1].split("<h2>II.")[0]
    assert section_i.count("<td class='n'>89,98%</td><td class='n'>449/499</td>") == 2
    assert "<td class='n'>90,0%</td><td class='n'>449/499</td>" not in section_i
    assert "<td class='n'>0,02 điểm %</td>" in section_i
    section_iii = page.split("<h2>III.")[1].split("<h2>IV.")[0]
    assert "<td class='n'>89,98%</td><td class='n'>449/499</td>" in section_iii
    assert "0,02 điểm %" in section_iii
    summary = " ".join(str(v) for _, v in figure_lines(ReportFiles(report, Path(), Path())))
    assert "89,98% (2025 90,0%: Chưa đạt 0,02 điểm %; 2030 95,0%: Chưa đạt 5,02 điểm %)" in (
        summary
    )
