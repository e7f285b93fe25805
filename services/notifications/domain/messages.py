"""Titles and bodies of notifications, in Vietnamese (the default) or English.

A message is rendered from the rule and the notification's ``details`` only, so the same
notification can be rendered again in the other language (an e-mail subscriber may choose
English). It names units, roles and figures, never a person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

from services.notifications.domain import rules

Language = Literal["vi", "en"]

# indicator id → (Vietnamese, English)
INDICATOR_LABELS: dict[str, tuple[str, str]] = {
    "female_key_leader_division_share": (
        "Tỷ lệ đơn vị cấp phòng có nữ lãnh đạo chủ chốt",
        "Share of divisions with a woman in a key leadership role",
    ),
    "female_key_leader_agency_share": (
        "Tỷ lệ cơ quan, đơn vị có nữ lãnh đạo chủ chốt",
        "Share of agencies with a woman in a key leadership role",
    ),
    "female_share_in_division_planning_pool": (
        "Tỷ lệ nữ trong quy hoạch cấp phòng",
        "Share of women in division planning pools",
    ),
    "female_share_in_planning_pool": (
        "Tỷ lệ nữ trong quy hoạch",
        "Share of women in planning pools",
    ),
    "trained_share_of_planned_women": (
        "Tỷ lệ nữ trong quy hoạch được đào tạo, bồi dưỡng",
        "Share of planned women with qualifying training",
    ),
    "units_with_female_in_planning_share": (
        "Tỷ lệ đơn vị cấp phòng có nữ trong quy hoạch",
        "Share of divisions with a woman in their planning pool",
    ),
    "units_meeting_planning_floor_share": (
        "Tỷ lệ đơn vị cấp phòng đạt tỷ lệ nữ tối thiểu trong quy hoạch",
        "Share of divisions whose planning pool meets the floor for women",
    ),
    "female_leader_share": ("Tỷ lệ nữ lãnh đạo, quản lý", "Share of women among leaders"),
    "female_head_share": ("Tỷ lệ nữ cấp trưởng", "Share of women among heads"),
    "ethnic_minority_female_leaders": (
        "Số nữ lãnh đạo người dân tộc thiểu số",
        "Ethnic-minority women in leadership",
    ),
    "female_staff_share": (
        "Tỷ lệ nữ cán bộ, công chức, viên chức",
        "Share of women among staff",
    ),
    "female_share_of_appointments_ytd": (
        "Tỷ lệ nữ được bổ nhiệm trong năm",
        "Share of women among this year's appointments",
    ),
    "units_inspected_share_ytd": (
        "Tỷ lệ đơn vị cấp phòng được thanh tra, kiểm tra trong năm",
        "Share of divisions inspected this year",
    ),
    "open_recommendations": ("Số kiến nghị chưa thực hiện", "Open recommendations"),
    "overdue_recommendations": ("Số kiến nghị quá hạn", "Overdue recommendations"),
}

# data-quality anomaly kind → (Vietnamese, English); unknown kinds are shown as they are
ANOMALY_LABELS: dict[str, tuple[str, str]] = {
    "person_not_registered": ("sự kiện về người chưa đăng ký", "events about unregistered people"),
    "registered_twice": ("đăng ký trùng", "duplicate registrations"),
    "event_after_leaving": ("sự kiện sau khi nghỉ", "events after leaving"),
    "homed_in_dissolved_unit": ("người thuộc đơn vị đã giải thể", "staff of a dissolved unit"),
    "position_not_held": ("kết thúc chức vụ không giữ", "ends of positions not held"),
    "not_in_planning_pool": ("rút khỏi quy hoạch khi không có", "removals from absent pools"),
    "unit_not_registered": ("sự kiện về đơn vị chưa đăng ký", "events about unregistered units"),
    "event_after_closure": ("sự kiện sau khi đơn vị đóng", "events after a unit closed"),
}


def _label(table: dict[str, tuple[str, str]], key: str, language: Language) -> str:
    pair = table.get(key)
    return key if pair is None else pair[0 if language == "vi" else 1]


def _percent(value: Any, language: Language) -> str:
    if value is None:
        return "—"
    text = f"{float(value) * 100:.1f}%"
    return text.replace(".", ",") if language == "vi" else text


def _date(iso: str, language: Language) -> str:
    day = dt.date.fromisoformat(iso)
    return day.strftime("%d/%m/%Y") if language == "vi" else day.isoformat()


def _ratio(details: dict[str, Any]) -> str:
    denominator = details.get("denominator")
    numerator = details.get("numerator")
    return str(numerator) if denominator is None else f"{numerator}/{denominator}"


def _target(details: dict[str, Any], language: Language) -> str:
    target = details.get("target") or {}
    value = _percent(target.get("value"), language)
    if language == "vi":
        return f"{value} vào năm {target.get('year')} (kế hoạch {target.get('plan')})"
    return f"{value} by {target.get('year')} (plan {target.get('plan')})"


def _target_breached(d: dict[str, Any], lang: Language) -> tuple[str, str]:
    unit, label = d["unit_name"], _label(INDICATOR_LABELS, d["indicator"], lang)
    figure = f"{_percent(d.get('value'), lang)} ({_ratio(d)})"
    if lang == "vi":
        return (
            f"{unit}: {label} dưới mục tiêu",
            f"{label} của {unit} là {figure}, dưới mục tiêu {_target(d, lang)}.",
        )
    return (
        f"{unit}: {label} below target",
        f"{label} of {unit} is {figure}, below the target of {_target(d, lang)}.",
    )


def _target_recovered(d: dict[str, Any], lang: Language) -> tuple[str, str]:
    unit, label = d["unit_name"], _label(INDICATOR_LABELS, d["indicator"], lang)
    figure = f"{_percent(d.get('value'), lang)} ({_ratio(d)})"
    if lang == "vi":
        return (
            f"{unit}: {label} đạt mục tiêu trở lại",
            f"{label} của {unit} là {figure}, đạt mục tiêu {_target(d, lang)}.",
        )
    return (
        f"{unit}: {label} back on target",
        f"{label} of {unit} is {figure}, meeting the target of {_target(d, lang)}.",
    )


def _last_female_key_leader_left(d: dict[str, Any], lang: Language) -> tuple[str, str]:
    unit = d["unit_name"]
    if lang == "vi":
        return (
            f"{unit}: không còn nữ lãnh đạo chủ chốt",
            f"{unit} không còn nữ giữ chức vụ cấp trưởng hoặc cấp phó ({_ratio(d)}).",
        )
    return (
        f"{unit}: no woman left in a key leadership role",
        f"{unit} no longer has a woman as head or deputy head ({_ratio(d)}).",
    )


def _planning_floor_breached(d: dict[str, Any], lang: Language) -> tuple[str, str]:
    unit, pool = d["unit_name"], d.get("pool_share") or {}
    share = f"{_percent(pool.get('value'), lang)} ({_ratio(pool)})"
    if lang == "vi":
        return (
            f"{unit}: tỷ lệ nữ trong quy hoạch dưới mức tối thiểu",
            f"Nguồn quy hoạch của {unit} không còn đạt tỷ lệ nữ tối thiểu; "
            f"tỷ lệ nữ hiện là {share}.",
        )
    return (
        f"{unit}: women in the planning pool below the floor",
        f"The planning pool of {unit} no longer meets the floor for women; "
        f"the share of women is {share}.",
    )


def _recommendation_overdue(d: dict[str, Any], lang: Language) -> tuple[str, str]:
    unit, due = d["unit_name"], _date(d["due"], lang)
    rec, inspection = d["recommendation_id"], d["inspection_id"]
    if lang == "vi":
        return (
            f"{unit}: kiến nghị {rec} quá hạn",
            f"Kiến nghị {rec} (cuộc thanh tra, kiểm tra {inspection}) đối với {unit} "
            f"đã quá hạn thực hiện ngày {due}.",
        )
    return (
        f"{unit}: recommendation {rec} overdue",
        f"Recommendation {rec} (inspection {inspection}) to {unit} was due on {due}.",
    )


def _deadline_approaching(d: dict[str, Any], lang: Language) -> tuple[str, str]:
    unit, due, days = d["unit_name"], _date(d["due"], lang), d["days_left"]
    if lang == "vi":
        return (
            f"{unit}: còn {days} ngày đến hạn {d['deadline_title'].lower()}",
            f"Theo {d['plan_title']}, {unit} cần hoàn thành "
            f"{d['deadline_title'].lower()} trước ngày {due} (còn {days} ngày).",
        )
    return (
        f"{unit}: {days} days to the deadline {d['deadline']} of plan {d['plan']}",
        f"Under plan {d['plan']} ({d['plan_title']}), {unit} is due to deliver "
        f"{d['deadline']} ({d['deadline_title']}) before {due}: {days} days left.",
    )


def _data_quality(d: dict[str, Any], lang: Language) -> tuple[str, str]:
    unit, day, total = d["unit_name"], _date(d["day"], lang), d["total"]
    counts = "; ".join(
        f"{_label(ANOMALY_LABELS, kind, lang)}: {n}" for kind, n in d["counts"].items()
    )
    if lang == "vi":
        return (
            f"{unit}: {total} vấn đề chất lượng dữ liệu ngày {day}",
            f"Ngày {day}, dữ liệu nhân sự của {unit} có {total} vấn đề: {counts}.",
        )
    return (
        f"{unit}: {total} data-quality problems on {day}",
        f"On {day}, the personnel data of {unit} had {total} problems: {counts}.",
    )


_RENDERERS: dict[str, Callable[[dict[str, Any], Language], tuple[str, str]]] = {
    rules.TARGET_BREACHED: _target_breached,
    rules.TARGET_RECOVERED: _target_recovered,
    rules.LAST_FEMALE_KEY_LEADER_LEFT: _last_female_key_leader_left,
    rules.PLANNING_FLOOR_BREACHED: _planning_floor_breached,
    rules.RECOMMENDATION_OVERDUE: _recommendation_overdue,
    rules.DEADLINE_APPROACHING: _deadline_approaching,
    rules.DATA_QUALITY: _data_quality,
}


def render(rule: str, details: dict[str, Any], language: Language) -> tuple[str, str]:
    """(title, body) of a notification."""
    return _RENDERERS[rule](details, language)
