"""Dates shown by the open data and the annex are Vietnam's (Asia/Ho_Chi_Minh), not UTC's."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

from openpyxl import load_workbook

from services.reporting.annex import FIGURES_SHEET, write_annex
from services.reporting.annual import build_report
from services.reporting.history import Figure, UnitStatus, end_of_day, snapshot
from services.reporting.opendata import csv_text, export_rows
from shared.plans import Plan

NEW_YEAR = datetime(2025, 12, 31, 17, 0, 1, tzinfo=UTC)  # 2026-01-01 00:00:01 in Vietnam
SHARE = "female_staff_share"


def status(unit_id: str, parent: str | None, figure: Figure) -> UnitStatus:
    return UnitStatus(
        unit_id, 2, NEW_YEAR, f"Đơn vị {unit_id}", "agency", parent, True, {SHARE: figure}
    )


RECORDS = [
    status("U-1", None, Figure(0.5, 10, 20)),
    status("U-2", "U-1", Figure(0.5, 1, 2)),  # withheld
]


def test_the_open_data_states_the_day_in_vietnam_for_every_row() -> None:
    rows = export_rows(2026, snapshot(RECORDS, end_of_day(date(2026, 12, 31))), 5)
    parsed = list(csv.DictReader(io.StringIO(csv_text(rows))))
    assert [(r["unit_id"], r["withheld"], r["as_of"]) for r in parsed] == [
        ("U-1", "false", "2026-01-01"),
        ("U-2", "true", "2026-01-01"),
    ]


def test_the_annex_states_the_time_in_vietnam(tmp_path: Path) -> None:
    plan = Plan(
        id="p",
        title="Kế hoạch",
        issued_by="UBND tỉnh",
        issued_on=date(2022, 1, 1),
        scope_unit_id="U-1",
        targets={SHARE: {2030: 0.5}},
    )
    report = build_report(plan, date(2026, 1, 1), RECORDS)
    write_annex(report, tmp_path / "annex.xlsx")
    sheet = load_workbook(tmp_path / "annex.xlsx")[FIGURES_SHEET]
    header = [cell.value for cell in sheet[1]]
    shown = {
        row[0]: row[header.index("Ngày số liệu")] for row in sheet.iter_rows(2, values_only=True)
    }
    assert shown == {"U-1": "2026-01-01T00:00:01+07:00", "U-2": "2026-01-01T00:00:01+07:00"}
