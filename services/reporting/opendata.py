"""The open-data export (dữ liệu mở): every indicator of every unit as of the end of a year,
with small-cell suppression so that no individual can be recognised.

The rule (pure, :func:`suppress`): a count below the threshold is withheld; a share is
withheld, numerator, denominator and value together, when its numerator or its
denominator is below the threshold. A withheld figure is published as empty cells with
``withheld`` true, never as a rounded or perturbed number. Zero is below any positive
threshold, so it is withheld too.

``as_of`` is the day (in Asia/Ho_Chi_Minh) of the unit's latest record, never its time: the
record changes whenever any figure of the unit does, and a precise instant would tell when a
small unit, all of whose figures are withheld, changed (someone appointed, leaving, trained).
A unit's rows share one ``as_of``, so coarsening only the withheld rows would not hide it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from services.reporting.history import Figure, Tree, UnitStatus
from shared.clock import local_date
from shared.outbound import INDICATOR_IDS

DEFAULT_THRESHOLD = 5
COLUMNS = (
    "year",
    "unit_id",
    "unit_name",
    "level",
    "parent_id",
    "indicator",
    "numerator",
    "denominator",
    "value",
    "withheld",
    "as_of",
)


@dataclass(frozen=True)
class Released:
    """What the export may show of one figure."""

    numerator: int | None
    denominator: int | None
    value: float | None
    withheld: bool


def suppress(figure: Figure, threshold: int) -> Released:
    """Withhold a count below ``threshold``, and a share whose numerator or denominator is."""
    if threshold < 0:
        raise ValueError("the suppression threshold cannot be negative")
    small = figure.numerator < threshold or (
        figure.denominator is not None and figure.denominator < threshold
    )
    if small:
        return Released(None, None, None, withheld=True)
    return Released(figure.numerator, figure.denominator, figure.value, withheld=False)


@dataclass(frozen=True)
class ExportRow:
    year: int
    status: UnitStatus
    indicator: str
    released: Released

    def cells(self) -> list[str | int | float | bool | None]:
        s, r = self.status, self.released
        return [
            self.year,
            s.unit_id,
            s.name,
            s.level,
            s.parent_id,
            self.indicator,
            r.numerator,
            r.denominator,
            None if r.value is None else round(r.value, 6),
            r.withheld,
            local_date(s.instant).isoformat(),
        ]


def export_rows(year: int, statuses: Mapping[str, UnitStatus], threshold: int) -> list[ExportRow]:
    """Every active unit (tree order) and every indicator it carries, suppressed."""
    tree = Tree.of(statuses)
    ordered = [u for root in tree.roots() for u in tree.subtree(root)]
    return [
        ExportRow(year, tree.units[u], indicator, suppress(figure, threshold))
        for u in ordered
        for indicator in INDICATOR_IDS
        if (figure := tree.units[u].indicators.get(indicator)) is not None
    ]


def _text(cell: str | int | float | bool | None) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    return str(cell)


def csv_text(rows: Iterable[ExportRow]) -> str:
    """Comma-separated with a header row; an empty cell is withheld (or has no value)."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_text(c) for c in row.cells()])
    return stream.getvalue()


def write_csv(rows: Iterable[ExportRow], path: Path) -> None:
    """UTF-8 without a byte-order mark (the XLSX format is there for spreadsheets)."""
    path.write_text(csv_text(rows), encoding="utf-8")


def write_xlsx(rows: Sequence[ExportRow], path: Path, *, threshold: int) -> None:
    book = Workbook()
    sheet = book.active
    if sheet is None:  # a new workbook always has one sheet
        sheet = book.create_sheet()
    sheet.title = "indicators"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row.cells())
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("README")
    for line in (
        ("Parity open data: indicators per unit as of the end of the year (Asia/Ho_Chi_Minh)",),
        ("as_of: the day (Asia/Ho_Chi_Minh) of the unit's latest figures",),
        (f"Small-cell suppression threshold: {threshold}",),
        (
            "A count below the threshold is withheld; so is a share whose numerator or "
            "denominator is below it (empty cells, withheld = TRUE).",
        ),
    ):
        notes.append(line)
    book.save(path)
