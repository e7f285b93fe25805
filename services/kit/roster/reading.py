"""Reading a roster from disk: an ``.xlsx`` workbook with sheets ``units`` and ``people``, or
CSV (a folder holding ``units.csv`` and ``people.csv``, or a people CSV with its units CSV).

Row numbers are the ones a person sees: the spreadsheet's row, or the CSV file's line.
Blank rows and rows whose first cell starts with ``#`` (notes, label rows) are skipped.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from zipfile import BadZipFile

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from services.kit.roster.cells import text
from services.kit.roster.sheets import (
    PERSON_REQUIRED,
    UNIT_REQUIRED,
    Roster,
    RosterError,
    SheetRow,
    check_columns,
)

UNITS_SHEET = "units"
PEOPLE_SHEET = "people"


def sheet_rows(
    sheet: str, rows: Iterable[Sequence[object]], required: Sequence[str]
) -> list[SheetRow]:
    """Numbered data rows under the first row (the header), as text cells by column name."""
    numbered = iter(enumerate(rows, start=1))
    try:
        _, header_cells = next(numbered)
    except StopIteration:
        raise RosterError(f"sheet {sheet!r} is empty") from None
    header = [text(cell).lower() for cell in header_cells]
    check_columns(sheet, header, required)
    found = []
    for number, row in numbered:
        values = [text(cell) for cell in row]
        if not any(values) or values[0].startswith("#"):
            continue
        cells = {name: value for name, value in zip(header, values, strict=False) if name}
        found.append(SheetRow(number, cells))
    return found


def read_workbook(path: Path) -> Roster:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError, BadZipFile, InvalidFileException) as error:
        raise RosterError(f"{path}: cannot be read as an .xlsx workbook: {error}") from None
    try:
        sheets = {name.strip().lower(): workbook[name] for name in workbook.sheetnames}
        for wanted in (UNITS_SHEET, PEOPLE_SHEET):
            if wanted not in sheets:
                raise RosterError(f"{path}: no sheet named {wanted!r} (has {workbook.sheetnames})")
        units = sheets[UNITS_SHEET].iter_rows(values_only=True)
        people = sheets[PEOPLE_SHEET].iter_rows(values_only=True)
        return Roster(
            units=sheet_rows(UNITS_SHEET, units, UNIT_REQUIRED),
            people=sheet_rows(PEOPLE_SHEET, people, PERSON_REQUIRED),
        )
    finally:
        workbook.close()


def read_csv(path: Path, sheet: str, required: Sequence[str]) -> list[SheetRow]:
    try:
        content = path.read_text(encoding="utf-8-sig")  # Excel writes a byte-order mark
    except (OSError, UnicodeDecodeError) as error:
        raise RosterError(f"{path}: cannot be read as UTF-8 CSV: {error}") from None
    first_line = content.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)  # Excel in a Vietnamese locale may use ';'
    return sheet_rows(sheet, csv.reader(content.splitlines(), delimiter=delimiter), required)


def read_roster(path: Path, units_csv: Path | None = None) -> Roster:
    """The roster at ``path``: a workbook, a folder of two CSVs, or a people CSV (whose units
    are read from ``units_csv``, else from a ``units.csv`` beside it when there is one)."""
    explicit_units = units_csv is not None
    if path.is_dir():
        people_csv, units_csv = path / "people.csv", units_csv or path / "units.csv"
    elif path.suffix.lower() == ".xlsx":
        if units_csv is not None:
            raise RosterError("--units is for CSV rosters; a workbook has its own units sheet")
        return read_workbook(path)
    elif path.suffix.lower() == ".csv":
        people_csv, units_csv = path, units_csv or path.with_name("units.csv")
    else:
        raise RosterError(f"{path}: expected an .xlsx workbook, a .csv file or a folder")
    if not people_csv.is_file():
        raise RosterError(f"{people_csv}: no such file")
    if explicit_units and not units_csv.is_file():
        raise RosterError(f"{units_csv}: no such file")
    units = read_csv(units_csv, UNITS_SHEET, UNIT_REQUIRED) if units_csv.is_file() else []
    return Roster(units=units, people=read_csv(people_csv, PEOPLE_SHEET, PERSON_REQUIRED))
