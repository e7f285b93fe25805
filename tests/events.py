"""Builders of contract events for tests: short to write, valid by construction."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.envelope import CloudEvent, new_event

T0 = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
_ids = itertools.count()


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def ce(
    type_: str, subject: str, day: float, data: dict[str, Any], *, sequence: int | None = None
) -> CloudEvent:
    return new_event(
        source="hrms/test",
        type_=type_,
        subject=subject,
        time=at(day),
        data=data,
        event_id=f"evt-{next(_ids)}",
        sequence=sequence,
    )


def unit_registered(
    unit_id: str, parent_id: str | None, level: str = "division", day: float = 0, name: str = ""
) -> CloudEvent:
    data = {
        "unit_id": unit_id,
        "name": name or f"Đơn vị {unit_id}",
        "parent_id": parent_id,
        "level": level,
    }
    return ce("hr.unit.registered", unit_id, day, data)


def unit_updated(unit_id: str, day: float, **changes: Any) -> CloudEvent:
    return ce("hr.unit.updated", unit_id, day, {"unit_id": unit_id, **changes})


def unit_merged(unit_id: str, into: str, day: float) -> CloudEvent:
    return ce("hr.unit.merged", unit_id, day, {"unit_id": unit_id, "into_unit_id": into})


def unit_dissolved(unit_id: str, day: float) -> CloudEvent:
    return ce("hr.unit.dissolved", unit_id, day, {"unit_id": unit_id})


def person_registered(
    person_id: str,
    unit_id: str,
    gender: str = "female",
    day: float = 1,
    ethnic_minority: bool = False,
) -> CloudEvent:
    data = {
        "person_id": person_id,
        "gender": gender,
        "ethnic_minority": ethnic_minority,
        "category": "civil_servant",
        "unit_id": unit_id,
    }
    return ce("hr.person.registered", person_id, day, data)


def appointed(person_id: str, unit_id: str, role: str = "head", day: float = 2) -> CloudEvent:
    return ce("hr.position.appointed", person_id, day, {"unit_id": unit_id, "role": role})


def position_ended(person_id: str, unit_id: str, role: str = "head", day: float = 3) -> CloudEvent:
    return ce("hr.position.ended", person_id, day, {"unit_id": unit_id, "role": role})


def transferred(person_id: str, unit_id: str, day: float) -> CloudEvent:
    return ce("hr.person.transferred", person_id, day, {"unit_id": unit_id})


def planning_added(
    person_id: str, unit_id: str, role: str = "head", day: float = 2, period: str = "2021-2026"
) -> CloudEvent:
    data = {"unit_id": unit_id, "role": role, "period": period}
    return ce("hr.planning.added", person_id, day, data)


def trained(person_id: str, day: float, category: str = "leadership") -> CloudEvent:
    return ce(
        "hr.training.completed", person_id, day, {"course_id": f"C{day}", "category": category}
    )


def left(person_id: str, day: float, reason: str = "retired") -> CloudEvent:
    return ce("hr.person.left", person_id, day, {"reason": reason})
