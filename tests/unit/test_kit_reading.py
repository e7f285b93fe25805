"""Reading rosters from disk: CSV with line breaks in quoted cells, workbook error values
and formulas without a saved value."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from services.kit.roster.plan import ImportOptions, plan_import
from services.kit.roster.reading import read_roster
from services.kit.roster.sheets import RosterError
from shared.clock import VIETNAM

OPTIONS = ImportOptions(source="parity-import", as_of=datetime(2025, 6, 1, tzinfo=VIETNAM))
FORMULA = "formula without a saved value: open and save the workbook in a spreadsheet program"


def csv_roster(folder: Path, people: str, newline: str = "\n") -> Path:
    (folder / "units.csv").write_bytes(
        "unit_id,name,parent_id,level\nU1,Sở,,agency\n".replace("\n", newline).encode()
    )
    (folder / "people.csv").write_bytes(people.replace("\n", newline).encode("utf-8-sig"))
    return folder


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_quoted_cell_may_hold_line_breaks_and_rows_keep_their_file_lines(
    tmp_path: Path, newline: str
) -> None:
    people = (
        "person_id,gender,category,unit_id,trainings\n"
        'P1,female,civil_servant,U1,"leadership@2024-05-10\nit@2023-01-01"\n'
        "\n"
        "P2,female,civil_servant,U1,\n"
        "P3,male,bogus,U1,\n"
    )
    roster = read_roster(csv_roster(tmp_path, people, newline))
    assert [(row.number, row.get("person_id")) for row in roster.people] == [
        (2, "P1"),
        (5, "P2"),
        (6, "P3"),
    ]
    assert roster.people[0].get("trainings").splitlines() == [
        "leadership@2024-05-10",
        "it@2023-01-01",
    ]
    plan = plan_import(roster, OPTIONS)
    assert [(r.where, r.subject) for r in plan.rejections] == [("people row 6", "P3")]
    assert plan.people_accepted == 2


def test_a_quoted_cell_left_open_refuses_the_file_naming_its_line(tmp_path: Path) -> None:
    people = (
        "person_id,gender,category,unit_id,trainings\n"
        "P1,female,civil_servant,U1,\n"
        'P2,female,civil_servant,U1,"it@2023-01-01\n'
        "P3,male,cadre,U1,\n"
    )
    with pytest.raises(RosterError, match=r"people\.csv: line 3: "):
        read_roster(csv_roster(tmp_path, people))


def test_an_excel_error_in_a_csv_cell_refuses_its_row(tmp_path: Path) -> None:
    people = "person_id,gender,category,unit_id\n#N/A,female,cadre,U1\nP2,female,#REF!,U1\n"
    plan = plan_import(read_roster(csv_roster(tmp_path, people)), OPTIONS)
    assert [(r.where, r.reason) for r in plan.rejections] == [
        ("people row 2", "person_id: the spreadsheet error #N/A"),
        ("people row 3", "category: the spreadsheet error #REF!"),
    ]


def workbook(tmp_path: Path, *people: list[object]) -> Path:
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    source = book.create_sheet("hr")
    source.append(["P9", "female", "civil_servant", "U1"])
    units = book.create_sheet("units")
    units.append(["unit_id", "name", "parent_id", "level"])
    units.append(["U1", "Sở", None, "agency"])
    sheet = book.create_sheet("people")
    sheet.append(["person_id", "gender", "category", "unit_id", "birth_year", "ethnic_minority"])
    sheet.append(["# Mã", "Giới tính", "Đối tượng", "Đơn vị"])  # a label row, skipped
    for row in people:
        sheet.append(row)
    path = tmp_path / "roster.xlsx"
    book.save(path)
    return path


@pytest.mark.parametrize(
    "error", ["#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!"]
)
def test_a_workbook_error_value_refuses_its_row_instead_of_reading_as_a_note(
    tmp_path: Path, error: str
) -> None:
    path = workbook(
        tmp_path,
        ["P1", "female", "civil_servant", "U1"],
        [error, "female", "civil_servant", "U1"],
        ["P3", "female", "civil_servant", error],
    )
    plan = plan_import(read_roster(path), OPTIONS)
    assert plan.people_accepted == 1
    assert [(r.where, r.reason) for r in plan.rejections] == [
        ("people row 4", f"person_id: the spreadsheet error {error}"),
        ("people row 5", f"unit_id: the spreadsheet error {error}"),
    ]


def test_a_formula_without_a_saved_value_refuses_its_row(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        ["=hr!A1", "=hr!B1", "=hr!C1", "=hr!D1"],
        ["P2", "female", "civil_servant", "U1"],
        ["P3", "female", "=hr!C1", "U1"],
    )
    plan = plan_import(read_roster(path), OPTIONS)
    assert plan.people_accepted == 1
    assert [(r.where, r.reason) for r in plan.rejections] == [
        ("people row 3", "; ".join(f"{c}: {FORMULA}" for c in ("person_id", "gender",
                                                               "category", "unit_id"))),
        ("people row 5", f"category: {FORMULA}"),
    ]  # fmt: skip


def test_a_formula_with_a_saved_value_reads_as_that_value_even_an_empty_text(
    tmp_path: Path,
) -> None:
    path = workbook(tmp_path, ["P1", "female", "civil_servant", "=hr!D1", "=hr!E1", "=hr!F1"])
    # what a spreadsheet program saves (openpyxl saves no value): U1, 1980 and an empty text
    saved = {
        '<c r="D3"><f>hr!D1</f><v /></c>': '<c r="D3" t="str"><f>hr!D1</f><v>U1</v></c>',
        '<c r="E3"><f>hr!E1</f><v /></c>': '<c r="E3"><f>hr!E1</f><v>1980</v></c>',
        '<c r="F3"><f>hr!F1</f><v /></c>': '<c r="F3" t="str"><f>hr!F1</f><v></v></c>',
    }
    with zipfile.ZipFile(path) as source:
        files = {name: source.read(name) for name in source.namelist()}
    sheet = files["xl/worksheets/sheet3.xml"].decode()  # hr, units, people
    for written, replaced in saved.items():
        assert written in sheet
        sheet = sheet.replace(written, replaced)
    files["xl/worksheets/sheet3.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, content in files.items():
            target.writestr(name, content)

    (row,) = read_roster(path).people
    assert (row.problems, row.get("unit_id"), row.get("birth_year")) == ((), "U1", "1980")
    assert row.get("ethnic_minority") == ""
    assert plan_import(read_roster(path), OPTIONS).people_accepted == 1
