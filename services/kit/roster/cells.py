"""Reading the cells of a roster: text, flags, dates and the compact list cells.

Pure. Every function returns a value or raises :class:`CellError` with a message fit for
the person who keeps the roster. List cells hold entries separated by ``;`` or new lines:

- positions (chức vụ):    ``role@unit_id`` or ``role@unit_id@YYYY-MM-DD`` (appointed on)
- planning (quy hoạch):   ``role@unit_id@YYYY-YYYY`` (the planning period)
- trainings (đào tạo):    ``category@YYYY-MM-DD`` or ``category@YYYY-MM-DD@course_id``
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar

from shared.contract import Gender, Role, StaffCategory, TrainingCategory, UnitLevel, check_year

E = TypeVar("E", bound=StrEnum)


class CellError(ValueError):
    """A cell that cannot be read; the message names the column and the problem."""


_PERIOD = re.compile(r"^(\d{4})-(\d{4})$")
_TRUE = frozenset({"true", "yes", "y", "1", "x", "có", "co"})
_FALSE = frozenset({"false", "no", "n", "0", "", "không", "khong"})
GENDER_ALIASES = {"nữ": "female", "nu": "female", "f": "female", "nam": "male", "m": "male"}


def text(value: object) -> str:
    """A cell as text: numbers without a trailing ``.0``, dates as ISO dates, blanks empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def choice(column: str, value: str, enum: type[E], aliases: dict[str, str]) -> E:
    lowered = value.strip().lower()
    lowered = aliases.get(lowered, lowered)
    try:
        return enum(lowered)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        shown = value or "(empty)"
        raise CellError(f"{column}: unknown value {shown!r} (expected one of {allowed})") from None


def gender(value: str) -> Gender:
    return choice("gender", value, Gender, GENDER_ALIASES)


def category(value: str) -> StaffCategory:
    return choice("category", value, StaffCategory, {})


def level(value: str) -> UnitLevel:
    return choice("level", value, UnitLevel, {})


def flag(column: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise CellError(f"{column}: {value!r} is not yes/no")


def year(column: str, value: str) -> int | None:
    if not value:
        return None
    if not re.fullmatch(r"\d{4}", value):
        raise CellError(f"{column}: {value!r} is not a four-digit year")
    return int(value)


def calendar_date(column: str, value: str) -> date:
    """A ``YYYY-MM-DD`` date in the years the consumers accept (an event dated outside them
    would be dead-lettered, and the epoch it set would take every registration with it)."""
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise CellError(f"{column}: {value!r} is not a date (YYYY-MM-DD)") from None
    try:
        check_year(day.year)
    except ValueError as error:
        raise CellError(f"{column}: {value.strip()!r}: {error}") from None
    return day


def entries(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;\n]", value) if part.strip()]


@dataclass(frozen=True, slots=True)
class PositionCell:
    role: Role
    unit_id: str
    appointed_on: date | None


@dataclass(frozen=True, slots=True)
class PlanningCell:
    role: Role
    unit_id: str
    period: str


@dataclass(frozen=True, slots=True)
class TrainingCell:
    category: TrainingCategory
    completed_on: date
    course_id: str  # given, or derived from the category and the date


def _parts(column: str, entry: str, shape: str, counts: tuple[int, ...]) -> list[str]:
    parts = [p.strip() for p in entry.split("@")]
    if len(parts) not in counts or not all(parts):
        raise CellError(f"{column}: {entry!r} is not {shape}")
    return parts


def positions(value: str) -> list[PositionCell]:
    found = []
    for entry in entries(value):
        parts = _parts("positions", entry, "role@unit_id[@YYYY-MM-DD]", (2, 3))
        role = choice("positions", parts[0], Role, {})
        since = calendar_date("positions", parts[2]) if len(parts) == 3 else None
        found.append(PositionCell(role, parts[1], since))
    return found


def planning(value: str) -> list[PlanningCell]:
    found = []
    for entry in entries(value):
        role_text, unit_id, period = _parts("planning", entry, "role@unit_id@YYYY-YYYY", (3,))
        match = _PERIOD.match(period)
        if match is None or int(match[1]) >= int(match[2]):
            raise CellError(f"planning: {period!r} is not a period such as 2021-2026")
        found.append(PlanningCell(choice("planning", role_text, Role, {}), unit_id, period))
    return found


def trainings(value: str) -> list[TrainingCell]:
    found = []
    for entry in entries(value):
        parts = _parts("trainings", entry, "category@YYYY-MM-DD[@course_id]", (2, 3))
        kind = choice("trainings", parts[0], TrainingCategory, {})
        completed_on = calendar_date("trainings", parts[1])
        course_id = parts[2] if len(parts) == 3 else f"{kind.value}-{completed_on.isoformat()}"
        found.append(TrainingCell(kind, completed_on, course_id))
    return found
