"""DueTimes: whose contribution changes by itself by a given instant."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.indicators.domain import due as due_module
from services.indicators.domain.due import DueTimes
from shared.clock import VIETNAM

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=VIETNAM)


def test_a_person_is_due_from_the_instant_held_until_put_again() -> None:
    times = DueTimes()
    times.put("W1", NOW + timedelta(seconds=30))
    times.put("W2", NOW + timedelta(days=1))
    times.put("W3", None)
    assert times.due(NOW) == set()
    assert times.due(NOW + timedelta(seconds=30)) == {"W1"}
    assert times.due(NOW + timedelta(minutes=1)) == {"W1"}  # still: not re-derived yet
    times.put("W1", None)  # re-derived: holds for good now
    assert times.due(NOW + timedelta(minutes=1)) == set()
    assert times.due(NOW + timedelta(days=2)) == {"W2"}
    assert len(times) == 1


def test_an_instant_moved_replaces_the_one_before() -> None:
    times = DueTimes()
    times.put("W1", NOW + timedelta(seconds=30))
    times.put("W1", NOW + timedelta(days=1))  # a newer training
    assert times.due(NOW + timedelta(hours=1)) == set()
    times.put("W1", NOW + timedelta(seconds=10))  # and back
    assert times.due(NOW + timedelta(seconds=10)) == {"W1"}


def test_outdated_entries_are_dropped_without_changing_the_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(due_module, "SLACK", 3)
    times = DueTimes()
    for step in range(50):  # each person's instant moved many times
        for person in ("W1", "W2"):
            times.put(person, NOW + timedelta(seconds=step + (person == "W2") * 100))
    assert len(times._heap) <= 2 * len(times) + 3
    assert times.due(NOW + timedelta(seconds=49)) == {"W1"}
    assert times.due(NOW + timedelta(seconds=149)) == {"W1", "W2"}
    times.clear()
    assert times.due(NOW + timedelta(days=1)) == set()
