"""Valid sample payloads and events for every event type of the contract, reused by tests.

``sample_payload(type)`` returns a fresh, valid ``data`` dict; ``sample_event(type)`` the
whole structured-mode CloudEvent (a JSON-ready dict) with a subject that matches the data.
Tests mutate the copies they get to make invalid ones.
"""

from __future__ import annotations

import copy
from typing import Any

from shared.contract import EVENT_TYPES
from shared.outbound import INDICATORS_EVENT_TYPE, NOTIFICATION_EVENT_TYPE

UNIT_ID = "U-0007"
PERSON_ID = "P-000123"
INSPECTION_ID = "INS-2026.04"
SAMPLE_TIME = "2026-03-02T09:30:00+07:00"

_PAYLOADS: dict[str, dict[str, Any]] = {
    # hr.units.v1
    "hr.unit.registered": {
        "unit_id": UNIT_ID,
        "name": "Phòng Tổ chức cán bộ, Sở Nội vụ",
        "parent_id": "U-0001",
        "level": "division",
    },
    "hr.unit.updated": {"unit_id": UNIT_ID, "name": "Phòng Công chức, viên chức"},
    "hr.unit.merged": {"unit_id": UNIT_ID, "into_unit_id": "U-0008"},
    "hr.unit.dissolved": {"unit_id": UNIT_ID},
    # hr.personnel.v1
    "hr.person.registered": {
        "person_id": PERSON_ID,
        "gender": "female",
        "ethnic_minority": True,
        "category": "civil_servant",
        "unit_id": UNIT_ID,
        "birth_year": 1984,
    },
    "hr.person.updated": {"ethnic_minority": False},
    "hr.person.transferred": {"unit_id": "U-0008"},
    "hr.person.left": {"reason": "retired"},
    "hr.position.appointed": {"unit_id": UNIT_ID, "role": "head", "decision_no": "123/QĐ-SNV"},
    "hr.position.ended": {"unit_id": UNIT_ID, "role": "deputy_head"},
    "hr.planning.added": {"unit_id": UNIT_ID, "role": "head", "period": "2021-2026"},
    "hr.planning.removed": {"unit_id": UNIT_ID, "role": "head", "period": "2021-2026"},
    "hr.training.completed": {"course_id": "QLNN-2025.3", "category": "state_management"},
    # inspections.v1
    "inspection.planned": {
        "inspection_id": INSPECTION_ID,
        "title": "Kiểm tra công tác quy hoạch cán bộ nữ năm 2026",
        "kind": "examination",
        "scope": ["planning", "gender_mainstreaming"],
        "unit_ids": [UNIT_ID, "U-0008"],
        "lead_unit_id": "U-0001",
        "inter_sectoral": False,
        "planned_start": "2026-04-01",
        "planned_end": "2026-04-30",
    },
    "inspection.started": {},
    "inspection.finding_recorded": {
        "finding_id": "F-1",
        "unit_id": UNIT_ID,
        "severity": "minor",
        "topic": "planning",
        "summary": "Tỷ lệ nữ trong quy hoạch chưa đạt 25%.",
    },
    "inspection.recommendation_issued": {
        "recommendation_id": "R-1",
        "unit_id": UNIT_ID,
        "finding_id": "F-1",
        "summary": "Bổ sung cán bộ nữ vào quy hoạch.",
        "due": "2026-09-30",
    },
    "inspection.recommendation_resolved": {
        "recommendation_id": "R-1",
        "resolution": "Đã bổ sung hai cán bộ nữ.",
    },
    "inspection.closed": {"conclusion": "Đơn vị đã thực hiện cơ bản đầy đủ."},
    "inspection.cancelled": {"reason": "Trùng kế hoạch thanh tra của tỉnh."},
    # outbound
    INDICATORS_EVENT_TYPE: {
        "unit_id": UNIT_ID,
        "name": "Sở Nội vụ",
        "level": "agency",
        "parent_id": "U-0001",
        "active": True,
        "as_of": "2026-11-21T09:30:00+07:00",
        "version": 17,
        "indicators": {
            "female_key_leader_division_share": {
                "value": 0.9,
                "numerator": 9,
                "denominator": 10,
                "target": {"plan": "lang-son-dolisa-2022", "year": 2030, "value": 0.95},
                "meets_target": False,
            },
            "open_recommendations": {"value": 2, "numerator": 2, "denominator": None},
        },
    },
    NOTIFICATION_EVENT_TYPE: {
        "notification_id": "target_breached:U-0007:female_key_leader_division_share:2030",
        "rule": "target_breached",
        "unit_id": UNIT_ID,
        "severity": "warning",
        "title": "Chưa đạt chỉ tiêu",
        "body": "Tỷ lệ phòng có lãnh đạo chủ chốt là nữ: 90% (chỉ tiêu 95% năm 2030).",
        "raised_at": "2026-11-21T09:30:00+07:00",
        "details": {"value": 0.9, "target": 0.95},
    },
}

OUTBOUND_TYPES = (INDICATORS_EVENT_TYPE, NOTIFICATION_EVENT_TYPE)
ALL_TYPES = (*EVENT_TYPES, *OUTBOUND_TYPES)


def sample_payload(event_type: str) -> dict[str, Any]:
    """A valid ``data`` dict for ``event_type`` (inbound or outbound); a fresh deep copy."""
    return copy.deepcopy(_PAYLOADS[event_type])


def sample_subject(event_type: str) -> str:
    """The subject that goes with :func:`sample_payload` of ``event_type``."""
    if event_type in OUTBOUND_TYPES or event_type.startswith("hr.unit."):
        return UNIT_ID
    if event_type.startswith("inspection."):
        return INSPECTION_ID
    return PERSON_ID


def sample_event(event_type: str, **attributes: Any) -> dict[str, Any]:
    """A valid structured-mode CloudEvent as a JSON-ready dict; ``attributes`` override."""
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": f"evt-{event_type}-1",
        "source": "hrms/lang-son",
        "type": event_type,
        "subject": sample_subject(event_type),
        "time": SAMPLE_TIME,
        "sequence": "42",
        "datacontenttype": "application/json",
        "data": sample_payload(event_type),
    }
    event.update(attributes)
    return event
