"""The annual report's XLSX annex (phụ lục): every table of the report, and every figure of
every unit of the scope in long form (one row per unit and indicator) for pivoting."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from services.reporting.annual import AnnualReport
from services.reporting.vocabulary import label
from shared.clock import VIETNAM
from shared.outbound import INDICATOR_IDS

Cell = str | int | float | bool | None

FIGURES_SHEET = "Số liệu"  # the long table: unit, indicator, numerator, denominator, value


def _sheet(
    book: Workbook, title: str, headers: Sequence[str], rows: Iterable[Sequence[Cell]]
) -> None:
    sheet = book.create_sheet(title)
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    sheet.freeze_panes = "A2"
    for column, header in zip(sheet.columns, headers, strict=False):
        sheet.column_dimensions[column[0].column_letter].width = max(12, min(48, len(header) + 2))


def write_annex(report: AnnualReport, path: Path) -> None:
    book = Workbook()
    if book.active is not None:
        book.remove(book.active)
    _sheet(
        book,
        "Chỉ tiêu",
        [
            "Mã đơn vị",
            "Đơn vị",
            "Mã chỉ số",
            "Chỉ số",
            "Kết quả",
            "Tử số",
            "Mẫu số",
            "Mốc",
            "Mục tiêu",
            "Đạt",
            "Còn thiếu",
        ],
        (
            [
                row.scope_id,
                _name(report, row.scope_id),
                row.indicator,
                label(row.indicator),
                row.figure.value if row.figure else None,
                row.figure.numerator if row.figure else None,
                row.figure.denominator if row.figure else None,
                check.year,
                check.target,
                check.met,
                check.gap,
            ]
            for row in report.targets
            for check in row.milestones
        ),
    )
    _sheet(
        book,
        "Xu hướng",
        ["Mã đơn vị", "Đơn vị", "Mã chỉ số", "Chỉ số", *(str(y) for y in report.years)],
        (
            [scope, _name(report, scope), indicator, label(indicator), *values]
            for (scope, indicator), values in report.trends.items()
        ),
    )
    _sheet(
        book,
        "Xa mục tiêu",
        [
            "Mã chỉ số",
            "Mã đơn vị",
            "Đơn vị",
            "Kết quả",
            "Tử số",
            "Mẫu số",
            "Mốc",
            "Mục tiêu",
            "Còn thiếu",
        ],
        (
            [
                s.indicator,
                s.unit_id,
                _name(report, s.unit_id),
                s.figure.value,
                s.figure.numerator,
                s.figure.denominator,
                s.target_year,
                s.target,
                s.gap,
            ]
            for found in report.shortfalls.values()
            for s in found
        ),
    )
    _sheet(
        book,
        "So sánh",
        [
            "Mã đơn vị",
            "Đơn vị",
            "Mã đơn vị cấp trên",
            "Mã chỉ số",
            "Kết quả",
            "Trung vị cùng cấp",
            "Thứ hạng",
            "Số đơn vị so sánh",
            "Toàn phạm vi",
        ],
        (
            [
                b.unit_id,
                _name(report, b.unit_id),
                report.status(b.unit_id).parent_id,
                b.indicator,
                b.value,
                b.siblings_median,
                b.rank,
                b.peers,
                b.scope_value,
            ]
            for b in report.benchmarks.values()
        ),
    )
    if report.recommendations is not None:
        _sheet(
            book,
            "Kiến nghị",
            ["Mã đơn vị", "Đơn vị", "Đã ban hành", "Đã thực hiện", "Chưa thực hiện", "Quá hạn"],
            (
                [u, _name(report, u), t.issued, t.resolved, t.open, t.overdue]
                for u, t in report.recommendations.items()
            ),
        )
    _sheet(
        book,
        FIGURES_SHEET,
        [
            "Mã đơn vị",
            "Đơn vị",
            "Cấp",
            "Mã đơn vị cấp trên",
            "Mã chỉ số",
            "Chỉ số",
            "Tử số",
            "Mẫu số",
            "Giá trị",
            "Ngày số liệu",
        ],
        (
            [
                u,
                status.name,
                status.level,
                status.parent_id,
                indicator,
                label(indicator),
                figure.numerator,
                figure.denominator,
                figure.value,
                status.instant.astimezone(VIETNAM).isoformat(),
            ]
            for u in report.units
            for status in (report.status(u),)
            for indicator in INDICATOR_IDS
            if (figure := status.indicators.get(indicator)) is not None
        ),
    )
    book.save(path)


def _name(report: AnnualReport, unit_id: str) -> str:
    return report.status(unit_id).name if unit_id in report.tree.units else unit_id
