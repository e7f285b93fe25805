"""Builders of the personnel service's change events (``shared/internal.py``) for tests of
the services that consume them: a small tree and people with what they hold."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.envelope import encode_structured, new_event
from shared.internal import (
    PERSON_CHANGED,
    PERSONNEL_SOURCE,
    UNIT_CHANGED,
    PersonChanged,
    UnitChanged,
)

RECORDED = datetime(2026, 11, 21, 2, 30, tzinfo=UTC)  # when record_value's events were sent

TREE = {  # unit -> (parent, level)
    "P": (None, "province"),
    "A": ("P", "agency"),
    "D1": ("A", "division"),
    "D2": ("A", "division"),
    "D3": ("A", "division"),
}


def unit_at(
    unit_id: str,
    path: list[str],
    level: str = "division",
    *,
    active: bool = True,
    revision: int = 1,
    **changes: Any,
) -> UnitChanged:
    """A unit under ``path`` (its ancestors, root first); ``changes`` set any other field."""
    fields: dict[str, Any] = {
        "unit_id": unit_id, "revision": revision, "registered": True,
        "name": f"Đơn vị {unit_id}", "level": level, "parent_id": path[-1] if path else None,
        "path": path, "active": active, "valid_from": None, "valid_to": None, "closure": None,
        "merged_into": None, "pending_parent": None, "anomalies": [],
    }  # fmt: skip
    return UnitChanged.model_validate({**fields, **changes})


def unit(unit_id: str, *, active: bool = True, revision: int = 1, **changes: Any) -> UnitChanged:
    """A unit of :data:`TREE` (any other id: a division of A), named by its id."""
    parent, level = TREE.get(unit_id, ("A", "division"))
    path: list[str] = []
    current = parent
    while current is not None:
        path.insert(0, current)
        current = TREE[current][0]
    changes.setdefault("name", unit_id)
    return unit_at(unit_id, path, level, active=active, revision=revision, **changes)


def person(
    person_id: str,
    *,
    revision: int = 1,
    gender: str = "female",
    home: str = "D1",
    positions: tuple[tuple[str, str], ...] = (),
    pools: tuple[str, ...] = (),
    trainings: tuple[datetime, ...] = (),
    training_categories: tuple[str, ...] = (),  # of the trainings in order; else leadership
    appointments: tuple[tuple[str, datetime], ...] = (),
    left: bool = False,
    ethnic_minority: bool = False,
) -> PersonChanged:
    since = "2024-01-01T00:00:00+00:00"
    return PersonChanged.model_validate(
        {
            "person_id": person_id, "revision": revision, "registered": True,
            "active": not left, "gender": gender, "ethnic_minority": ethnic_minority,
            "category": "civil_servant", "home_unit_id": home,
            "left_reason": "retired" if left else None,
            "positions": [{"unit_id": u, "role": r, "since": since} for u, r in positions],
            "planning_entries": [
                {"unit_id": u, "role": "head", "period": "2026-2031", "since": since}
                for u in pools
            ],
            "trainings": [
                {
                    "course_id": f"c{i}",
                    "category": training_categories[i] if i < len(training_categories)
                    else "leadership",
                    "completed_at": t.isoformat(),
                }
                for i, t in enumerate(trainings)
            ],
            "appointments": [
                {"unit_id": u, "role": "head", "time": t.isoformat()} for u, t in appointments
            ],
            "anomalies": [], "pending_units": [],
        }
    )  # fmt: skip


def record_value(change: PersonChanged | UnitChanged) -> bytes:
    """A change event as the personnel service puts it on its topic (a record's value)."""
    if isinstance(change, PersonChanged):
        type_, subject = PERSON_CHANGED, change.person_id
    else:
        type_, subject = UNIT_CHANGED, change.unit_id
    event = new_event(
        source=PERSONNEL_SOURCE,
        type_=type_,
        subject=subject,
        time=RECORDED,
        data=change.model_dump(mode="json"),
    )
    return encode_structured(event)[0]
