"""Reading a roster from disk: an ``.xlsx`` workbook with sheets ``units`` and ``people``, or
CSV (a folder holding ``units.csv`` and ``people.csv``, or a people CSV with its units CSV).

Row numbers are the ones a person sees: the spreadsheet's row, or the line of the CSV file on
which the row starts (a quoted cell may hold line breaks, so a row may span several lines).
Blank rows and rows whose first cell starts with ``#`` (notes, label rows) are skipped.

A cell whose content cannot be used refuses its row instead of being read as something else:
a spreadsheet error value (``#N/A``, ``#REF!``, ...: in a workbook the cell's error type, in a
CSV the exact text Excel writes for it), and in a workbook a formula without a saved value
(a file written by a program that does not compute formulas: its cells would read as blank).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from zipfile import BadZipFile

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook

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
# What Excel shows (and writes to CSV) for a cell whose formula failed.
SPREADSHEET_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"}
    | {"#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"}
)
NO_SAVED_VALUE = (
    "formula without a saved value: open and save the workbook in a spreadsheet program"
)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A cell that holds no usable value, and why."""

    reason: str


def error_value(code: object) -> Unreadable:
    return Unreadable(f"the spreadsheet error {code}")


def _cell(name: str, cell: object) -> str | Unreadable:
    """A data cell as text; an unreadable one stays so when its column is read at all."""
    if isinstance(cell, Unreadable):
        return cell if name else ""
    return text(cell)


def sheet_rows(
    sheet: str, rows: Iterable[tuple[int, Sequence[object]]], required: Sequence[str]
) -> list[SheetRow]:
    """Data rows under the first row (the header), as text cells by column name. ``rows``
    are numbered as the person sees them; a cell is a value or :class:`Unreadable`."""
    numbered = iter(rows)
    try:
        _, header_cells = next(numbered)
    except StopIteration:
        raise RosterError(f"sheet {sheet!r} is empty") from None
    header = [_cell("header", cell) for cell in header_cells]
    names = ["" if isinstance(name, Unreadable) else name.lower() for name in header]
    check_columns(sheet, names, required)
    found = []
    for number, row in numbered:
        named = [(name, _cell(name, cell)) for name, cell in zip_longest(names, row, fillvalue="")]
        first = named[0][1] if named else ""
        if not any(value for _, value in named) or (
            isinstance(first, str) and first.startswith("#")
        ):
            continue
        cells = {name: "" if isinstance(v, Unreadable) else v for name, v in named if name}
        problems = tuple(f"{name}: {v.reason}" for name, v in named if isinstance(v, Unreadable))
        found.append(SheetRow(number, cells, problems))
    return found


def workbook_cell(value: object, data_type: str, formula_type: str) -> object:
    """A workbook cell from its saved value and type (read with ``data_only``) and its type
    read without (``"f"`` for a formula)."""
    if data_type == "e":
        return error_value(value)
    # A formula saved with an empty text result is typed "str"; one never computed, nothing.
    if value is None and formula_type == "f" and data_type != "str":
        return Unreadable(NO_SAVED_VALUE)
    return value


def _worksheet_rows(values: Workbook, formulas: Workbook, name: str) -> Iterator[list[object]]:
    """The rows of one sheet of the workbook opened twice (saved values, and formulas)."""
    for saved, written in zip_longest(values[name].iter_rows(), formulas[name].iter_rows()):
        yield [
            workbook_cell(
                getattr(cell, "value", None),
                getattr(cell, "data_type", "n"),
                getattr(formula, "data_type", "n"),
            )
            for cell, formula in zip_longest(saved or (), written or ())
        ]


def _open_workbook(path: Path, *, data_only: bool) -> Workbook:
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except (OSError, ValueError, KeyError, BadZipFile, InvalidFileException) as error:
        raise RosterError(f"{path}: cannot be read as an .xlsx workbook: {error}") from None


def read_workbook(path: Path) -> Roster:
    """Read twice: for the values a spreadsheet program saved, and to tell a formula that has
    none from a blank cell (openpyxl reads both as empty)."""
    values = _open_workbook(path, data_only=True)
    try:
        formulas = _open_workbook(path, data_only=False)
    except RosterError:
        values.close()
        raise
    try:
        sheets = {name.strip().lower(): name for name in values.sheetnames}
        for wanted in (UNITS_SHEET, PEOPLE_SHEET):
            if wanted not in sheets:
                raise RosterError(f"{path}: no sheet named {wanted!r} (has {values.sheetnames})")
        units = enumerate(_worksheet_rows(values, formulas, sheets[UNITS_SHEET]), start=1)
        people = enumerate(_worksheet_rows(values, formulas, sheets[PEOPLE_SHEET]), start=1)
        return Roster(
            units=sheet_rows(UNITS_SHEET, units, UNIT_REQUIRED),
            people=sheet_rows(PEOPLE_SHEET, people, PERSON_REQUIRED),
        )
    finally:
        values.close()
        formulas.close()


def _csv_cell(value: str) -> str | Unreadable:
    return error_value(value) if value.strip() in SPREADSHEET_ERRORS else value


def csv_rows(content: str, delimiter: str, name: str) -> Iterator[tuple[int, list[object]]]:
    """The records of a CSV text, each with the line it starts on; a quoted cell may hold
    line breaks. A malformed file (a quote left open) is a :class:`RosterError` naming the
    line of the row at fault."""
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter, strict=True)
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise RosterError(
                f"{name}: line {start}: not valid CSV ({error}); a cell that starts with a "
                "quote must end with one"
            ) from None
        yield start, [_csv_cell(value) for value in record]
        start = reader.line_num + 1


def read_csv(path: Path, sheet: str, required: Sequence[str]) -> list[SheetRow]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:  # Excel writes a BOM
            content = stream.read()
    except (OSError, UnicodeDecodeError) as error:
        raise RosterError(f"{path}: cannot be read as UTF-8 CSV: {error}") from None
    first_line = content.splitlines()[0] if content else ""
    delimiter = max(",;\t", key=first_line.count)  # Excel in a Vietnamese locale may use ';'
    return sheet_rows(sheet, csv_rows(content, delimiter, str(path)), required)


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
