"""An injectable clock: services ask it for "now", tests move it by hand.

Calendar dates ("today", "this year") are read in Asia/Ho_Chi_Minh (contract section 1).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol

VIETNAM = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that stands still until told to move (tests, replays, what-if runs)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def local_date(instant: datetime) -> date:
    """The calendar date of an instant in Vietnam."""
    return instant.astimezone(VIETNAM).date()


def start_of_local_year(instant: datetime) -> datetime:
    local = instant.astimezone(VIETNAM)
    return datetime(local.year, 1, 1, tzinfo=VIETNAM)
