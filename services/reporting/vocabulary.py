"""The Vietnamese words of the reports: indicator and level names, formatting of figures."""

from __future__ import annotations

from datetime import date

from shared.contract import COUNT_INDICATORS

INDICATOR_LABELS: dict[str, str] = {
    "female_key_leader_division_share": "Tỷ lệ phòng và tương đương có nữ lãnh đạo chủ chốt",
    "female_key_leader_agency_share": "Tỷ lệ cơ quan, đơn vị có nữ lãnh đạo chủ chốt",
    "female_share_in_division_planning_pool": "Tỷ lệ nữ trong quy hoạch lãnh đạo cấp phòng",
    "female_share_in_planning_pool": "Tỷ lệ nữ trong quy hoạch lãnh đạo, quản lý",
    "trained_share_of_planned_women": "Tỷ lệ nữ trong quy hoạch cấp phòng được đào tạo, bồi dưỡng",
    "units_with_female_in_planning_share": "Tỷ lệ phòng có nữ trong quy hoạch",
    "units_meeting_planning_floor_share": "Tỷ lệ phòng có ít nhất 25% nữ trong quy hoạch",
    "female_leader_share": "Tỷ lệ nữ giữ chức vụ lãnh đạo, quản lý",
    "female_head_share": "Tỷ lệ nữ giữ chức vụ cấp trưởng",
    "ethnic_minority_female_leaders": "Số nữ lãnh đạo, quản lý là người dân tộc thiểu số",
    "female_staff_share": "Tỷ lệ nữ trong tổng số cán bộ, công chức, viên chức",
    "female_share_of_appointments_ytd": "Tỷ lệ nữ trong số lượt bổ nhiệm từ đầu năm",
    "units_inspected_share_ytd": "Tỷ lệ phòng được thanh tra, kiểm tra trong năm",
    "open_recommendations": "Số kiến nghị chưa thực hiện",
    "overdue_recommendations": "Số kiến nghị quá hạn",
}

LEVEL_LABELS: dict[str, str] = {
    "province": "Cấp tỉnh",
    "agency": "Sở, ban, ngành; UBND cấp huyện",
    "public_service_unit": "Đơn vị sự nghiệp",
    "division": "Phòng và tương đương",
}

MET = "Đạt"
NOT_MET = "Chưa đạt"
NO_DATA = "Chưa có số liệu"


def label(indicator: str) -> str:
    return INDICATOR_LABELS.get(indicator, indicator)


def level_label(level: str) -> str:
    return LEVEL_LABELS.get(level, level)


def is_count(indicator: str) -> bool:
    return indicator in COUNT_INDICATORS


def percent(value: float | None) -> str:
    """0.905 → "90,5%" (a decimal comma, as Vietnamese writes it)."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%".replace(".", ",")


def points(gap: float | None) -> str:
    """A gap in percentage points: 0.052 → "5,2 điểm %"."""
    if gap is None:
        return "—"
    return f"{gap * 100:.1f} điểm %".replace(".", ",")


def figure_text(indicator: str, value: float | None) -> str:
    if is_count(indicator):
        return "—" if value is None else f"{value:.0f}"
    return percent(value)


def day_text(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"
