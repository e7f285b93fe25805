"""The two sheets of a roster as the pure code sees them: numbered rows of text cells.

Column names are English (see services/kit/README.md); the template carries the
Vietnamese labels beside them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

UNIT_COLUMNS = ("unit_id", "name", "parent_id", "level")
UNIT_REQUIRED = ("unit_id", "name", "level")
PERSON_COLUMNS = (
    "person_id",
    "gender",
    "ethnic_minority",
    "category",
    "unit_id",
    "birth_year",
    "positions",
    "planning",
    "trainings",
)
PERSON_REQUIRED = ("person_id", "gender", "category", "unit_id")

# Vietnamese labels of the columns (template header comments and the CSV template's notes).
LABELS = {
    "unit_id": "Mã đơn vị",
    "name": "Tên đơn vị",
    "parent_id": "Mã đơn vị cấp trên (để trống nếu là cấp tỉnh)",
    "level": "Cấp: province (tỉnh), agency (sở, ban, ngành; UBND cấp dưới), "
    "public_service_unit (đơn vị sự nghiệp), division (phòng, khoa và tương đương)",
    "person_id": "Mã cán bộ (bí danh, không ghi họ tên)",
    "gender": "Giới tính: female (nữ) / male (nam)",
    "ethnic_minority": "Dân tộc thiểu số: yes / no",
    "category": "Đối tượng: cadre (cán bộ), civil_servant (công chức), "
    "public_employee (viên chức), other (khác)",
    "birth_year": "Năm sinh",
    "positions": "Chức vụ: vai_trò@mã_đơn_vị[@ngày bổ nhiệm], cách nhau bởi dấu ; — "
    "vai trò: head (cấp trưởng), deputy_head (cấp phó)",
    "planning": "Quy hoạch: vai_trò@mã_đơn_vị@giai_đoạn (vd. head@U-0002@2021-2026)",
    "trainings": "Đào tạo, bồi dưỡng: loại@ngày hoàn thành[@mã khóa học] "
    "(vd. leadership@2024-05-10)",
}


class RosterError(Exception):
    """The roster as a whole cannot be read (a missing sheet or column): nothing is imported."""


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One data row: its number as the spreadsheet (or CSV line) shows it, its cells, and the
    cells that could not be read at all (``"column: why"``; such a cell's text is empty)."""

    number: int
    cells: Mapping[str, str]
    problems: tuple[str, ...] = ()

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass(frozen=True, slots=True)
class Roster:
    units: Sequence[SheetRow]
    people: Sequence[SheetRow]


def check_columns(sheet: str, header: Sequence[str], required: Sequence[str]) -> None:
    missing = [column for column in required if column not in header]
    if missing:
        raise RosterError(f"sheet {sheet!r} lacks column(s) {', '.join(missing)}")
