"""The template roster shipped with the project (deploy/roster-template.xlsx and its CSV
variant deploy/roster-template/): the columns, their Vietnamese labels and a few example rows.

Regenerate both with ``python -m services.kit.roster.template`` after changing this file;
a unit test checks that the shipped files still hold exactly these rows.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from services.kit.roster.sheets import LABELS, PERSON_COLUMNS, UNIT_COLUMNS

EXAMPLE_UNITS: tuple[tuple[str, ...], ...] = (
    ("U-0001", "Ủy ban nhân dân tỉnh Lạng Sơn", "", "province"),
    ("U-0002", "Sở Nội vụ", "U-0001", "agency"),
    ("U-0003", "Phòng Công chức, viên chức", "U-0002", "division"),
    ("U-0004", "Phòng Tổ chức, biên chế và tổ chức phi chính phủ", "U-0002", "division"),
    ("U-0005", "Sở Y tế", "U-0001", "agency"),
    ("U-0006", "Bệnh viện Đa khoa tỉnh", "U-0005", "public_service_unit"),
    ("U-0007", "Khoa Nội tổng hợp", "U-0006", "division"),
)
EXAMPLE_PEOPLE: tuple[tuple[str, ...], ...] = (
    (
        "P-0001", "female", "no", "civil_servant", "U-0002", "1975",
        "head@U-0002@2020-06-01", "",
        "political_theory@2019-11-20; leadership@2024-05-10",
    ),
    (
        "P-0002", "male", "no", "civil_servant", "U-0002", "1970",
        "deputy_head@U-0002", "head@U-0002@2021-2026", "state_management@2022-03-15",
    ),
    (
        "P-0003", "female", "yes", "civil_servant", "U-0003", "1984",
        "head@U-0003", "deputy_head@U-0002@2021-2026", "leadership@2024-05-10",
    ),
    (
        "P-0004", "female", "no", "civil_servant", "U-0004", "1988",
        "deputy_head@U-0004", "head@U-0004@2021-2026",
        "gender_equality@2025-09-12@BDG-2025-01",
    ),
    ("P-0005", "male", "no", "civil_servant", "U-0004", "1979", "head@U-0004", "", ""),
    (
        "P-0006", "female", "yes", "public_employee", "U-0007", "1990",
        "deputy_head@U-0007", "head@U-0007@2021-2026", "professional@2023-12-01",
    ),
    ("P-0007", "male", "no", "public_employee", "U-0007", "1982", "head@U-0007", "", ""),
    ("P-0008", "female", "no", "cadre", "U-0001", "1972", "", "", ""),
)  # fmt: skip
SHEETS = {"units": (UNIT_COLUMNS, EXAMPLE_UNITS), "people": (PERSON_COLUMNS, EXAMPLE_PEOPLE)}
FIXED_TIME = datetime(2026, 1, 1)  # for the workbook's metadata, instead of the time it was written


def label_row(columns: Sequence[str]) -> list[str]:
    """The second row: Vietnamese labels; its ``#`` makes every reader skip it."""
    return [("# " if i == 0 else "") + LABELS[column] for i, column in enumerate(columns)]


def _fill(sheet: Worksheet, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    sheet.append(list(columns))
    sheet.append(label_row(columns))
    for row in rows:
        sheet.append([int(v) if v.isdigit() and len(v) == 4 else v for v in row])
    for index, column in enumerate(columns, start=1):
        header = sheet.cell(row=1, column=index)
        header.font = Font(bold=True)
        header.comment = Comment(LABELS[column], "Parity")
        sheet.cell(row=2, column=index).font = Font(italic=True, color="666666")
        width = max(len(column), *(len(row[index - 1]) for row in rows)) + 2
        sheet.column_dimensions[get_column_letter(index)].width = min(width, 60)
    sheet.freeze_panes = "A3"


def write_workbook(path: Path) -> None:
    workbook = Workbook()
    default = workbook.active
    if default is not None:
        workbook.remove(default)
    for name, (columns, rows) in SHEETS.items():
        _fill(workbook.create_sheet(name), columns, rows)
    workbook.properties.creator = "Parity"
    workbook.properties.created = workbook.properties.modified = FIXED_TIME
    workbook.save(path)


def write_csv(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (columns, rows) in SHEETS.items():
        with (folder / f"{name}.csv").open("w", encoding="utf-8-sig", newline="") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(columns)
            writer.writerow(label_row(columns))
            writer.writerows(rows)


def main(argv: Sequence[str] | None = None) -> None:
    """Write both templates into the given folder (default ``deploy``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    deploy = Path(args[0] if args else "deploy")
    deploy.mkdir(parents=True, exist_ok=True)
    write_workbook(deploy / "roster-template.xlsx")
    write_csv(deploy / "roster-template")


if __name__ == "__main__":
    main()
