"""The Vietnamese words of the reports: indicator and level names, formatting of figures.

A share is shown in percent with one decimal, rounded half up. Shown beside a target it does
not reach, it never reads as reaching it: where one decimal would round it up to the target
(449/499 = 89,98% against 90%) it gets a second or third decimal, and past the third it is
rounded down; its gap is shown with the same decimals and is never 0 (the smallest step
instead). A value that reaches its target can never show below it (rounding keeps order).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from shared.outbound import COUNT_INDICATORS

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


MAX_DECIMALS = 3  # of a share in percent, where one decimal would contradict its verdict
_NOISE = Decimal("1e-9")  # float noise below this is dropped before rounding (0.57 * 100)


def _in_percent(value: float) -> Decimal:
    return (Decimal(repr(value)) * 100).quantize(_NOISE, ROUND_HALF_UP)


def _rounded(scaled: Decimal, decimals: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    return scaled.quantize(Decimal(1).scaleb(-decimals), rounding)


def decimals_for(value: float | None, targets: Iterable[float] = ()) -> int:
    """Decimals to show ``value`` with (in percent): one, or as many as it takes (at most
    MAX_DECIMALS) for it not to read as reaching a target it is below (449/499 = 89,98%
    against 90%, not "90,0%")."""
    if value is None:
        return 1
    missed = [_in_percent(t) for t in targets if value < t]
    scaled = _in_percent(value)
    for decimals in range(1, MAX_DECIMALS):
        if all(_rounded(scaled, decimals) < _rounded(t, decimals) for t in missed):
            return decimals
    return MAX_DECIMALS


def percent(value: float | None, targets: Iterable[float] = ()) -> str:
    """0.905 → "90,5%" (a decimal comma, as Vietnamese writes it). With ``targets``, a value
    below one of them never shows as reaching it: more decimals (:func:`decimals_for`), and
    past MAX_DECIMALS rounded down."""
    if value is None:
        return "—"
    targets = list(targets)
    decimals = decimals_for(value, targets)
    scaled = _in_percent(value)
    shown = _rounded(scaled, decimals)
    if any(value < t and shown >= _rounded(_in_percent(t), decimals) for t in targets):
        shown = _rounded(scaled, decimals, ROUND_FLOOR)
    return f"{shown}%".replace(".", ",")


def points(gap: float | None, decimals: int = 1) -> str:
    """A gap in percentage points: 0.052 → "5,2 điểm %". A gap above zero (a target not met)
    never shows as 0: it is then the smallest step of ``decimals``."""
    if gap is None:
        return "—"
    shown = _rounded(_in_percent(gap), decimals)
    if gap > 0 and shown <= 0:
        shown = Decimal(1).scaleb(-decimals)
    return f"{shown} điểm %".replace(".", ",")


def figure_text(indicator: str, value: float | None) -> str:
    if is_count(indicator):
        return "—" if value is None else f"{value:.0f}"
    return percent(value)


def day_text(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"
