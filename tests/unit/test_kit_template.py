"""The shipped roster templates, and reading rosters from workbooks and CSV files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook
from rich.console import Console

from services.kit import cli
from services.kit.console import EXIT_FAILED, EXIT_OK, EXIT_REJECTED, Output
from services.kit.roster import template
from services.kit.roster.plan import ImportOptions, plan_import
from services.kit.roster.reading import read_roster
from services.kit.roster.sheets import RosterError
from shared.clock import VIETNAM

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
OPTIONS = ImportOptions(
    source="parity-import", as_of=__import__("datetime").datetime(2026, 11, 1, tzinfo=VIETNAM)
)


def cells(roster_path: Path) -> tuple[list[tuple[int, tuple[str, ...]]], ...]:
    roster = read_roster(roster_path)
    return tuple(
        [(row.number, tuple(row.cells.values())) for row in sheet]
        for sheet in (roster.units, roster.people)
    )


@pytest.mark.parametrize("shipped", ["roster-template.xlsx", "roster-template"])
def test_the_shipped_templates_hold_the_example_rows(shipped: str) -> None:
    units, people = cells(DEPLOY / shipped)
    assert units == list(enumerate(template.EXAMPLE_UNITS, start=3))  # under header and labels
    assert people == list(enumerate(template.EXAMPLE_PEOPLE, start=3))


def test_the_workbook_and_the_csv_template_import_to_the_same_events() -> None:
    from_workbook = plan_import(read_roster(DEPLOY / "roster-template.xlsx"), OPTIONS)
    from_csv = plan_import(read_roster(DEPLOY / "roster-template"), OPTIONS)
    assert from_workbook.rejections == []
    assert from_workbook.units_accepted == len(template.EXAMPLE_UNITS)
    assert from_workbook.people_accepted == len(template.EXAMPLE_PEOPLE)
    assert from_workbook.records == from_csv.records


def test_a_regenerated_template_reads_back_the_same(tmp_path: Path) -> None:
    template.main([str(tmp_path)])
    assert cells(tmp_path / "roster-template.xlsx") == cells(DEPLOY / "roster-template.xlsx")
    for name in ("units.csv", "people.csv"):
        shipped = (DEPLOY / "roster-template" / name).read_text(encoding="utf-8")
        assert (tmp_path / "roster-template" / name).read_text(encoding="utf-8") == shipped


def test_excel_typed_cells_are_read_as_text(tmp_path: Path) -> None:
    workbook = Workbook()
    units = workbook.active
    assert units is not None
    units.title = "Units"  # sheet names are matched without regard to case
    units.append(["Unit_ID", "name", "parent_id", "level"])
    units.append([1001, "UBND tỉnh", None, "province"])
    units.append([None, None, None, None])  # blank rows are skipped
    people = workbook.create_sheet("people")
    people.append(["person_id", "gender", "category", "unit_id", "birth_year", "ethnic_minority"])
    people.append([42, "nữ", "cadre", 1001.0, 1980, True])
    path = tmp_path / "roster.xlsx"
    workbook.save(path)
    roster = read_roster(path)
    assert [dict(r.cells) for r in roster.units] == [
        {"unit_id": "1001", "name": "UBND tỉnh", "parent_id": "", "level": "province"}
    ]
    assert roster.people[0].number == 2
    assert dict(roster.people[0].cells)["unit_id"] == "1001"
    plan = plan_import(roster, OPTIONS)
    assert plan.rejections == []
    assert [r.key for r in plan.records] == [b"1001", b"42"]


def test_semicolon_csv_with_a_units_file_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "nhan-su.csv").write_text(
        "person_id;gender;category;unit_id\n"
        "# Mã;Giới tính;Đối tượng;Đơn vị\n"
        "P-1;female;cadre;U-1\n",
        encoding="utf-8-sig",
    )
    (tmp_path / "don-vi.csv").write_text("unit_id;name;parent_id;level\nU-1;Tỉnh;;province\n")
    roster = read_roster(tmp_path / "nhan-su.csv", tmp_path / "don-vi.csv")
    assert [(r.number, r.get("person_id")) for r in roster.people] == [(3, "P-1")]
    assert [r.get("name") for r in roster.units] == ["Tỉnh"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"people.csv": "person_id,gender,unit_id\n"}, r"lacks column\(s\) category"),
        ({"people.csv": ""}, "is empty"),
        ({"units.csv": "unit_id,name,level\n"}, "people.csv: no such file"),
    ],
)
def test_unreadable_rosters_are_refused_whole(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    with pytest.raises(RosterError, match=message):
        read_roster(tmp_path)


def test_a_workbook_without_a_people_sheet_is_refused(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "units"
    workbook.save(tmp_path / "roster.xlsx")
    with pytest.raises(RosterError, match="no sheet named 'people'"):
        read_roster(tmp_path / "roster.xlsx")
    (tmp_path / "not.xlsx").write_text("plain text")
    with pytest.raises(RosterError, match=r"cannot be read as an \.xlsx workbook"):
        read_roster(tmp_path / "not.xlsx")


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    output = Output(out=Console(file=out, width=200), err=Console(file=err, width=200))
    return cli.main(list(argv), output), out.getvalue(), err.getvalue()


def test_import_dry_run_exit_codes(tmp_path: Path) -> None:
    code, out, _ = run_cli("import", str(DEPLOY / "roster-template.xlsx"), "--dry-run")
    assert code == EXIT_OK
    assert f"people accepted: {len(template.EXAMPLE_PEOPLE)}" in out

    (tmp_path / "units.csv").write_text("unit_id,name,parent_id,level\nU-1,Tỉnh,,province\n")
    (tmp_path / "people.csv").write_text(
        "person_id,gender,category,unit_id\nP-1,female,cadre,U-1\nP-2,female,cadre,U-2\n"
    )
    code, out, err = run_cli("import", str(tmp_path), "--dry-run", "--source", "lang-son")
    assert code == EXIT_REJECTED
    assert "source: parity-import/lang-son" in out
    assert "rejected people row 3 [P-2]: unit U-2 is not in the units sheet" in err

    code, _, err = run_cli("import", str(tmp_path / "absent.xlsx"), "--dry-run")
    assert code == EXIT_FAILED
