"""Mistakes an HR system makes, which the contract says change nothing: ending a position
the person does not hold, removing a planning entry that was never added, and events
about a person who was never registered (a "ghost": appointed, trained, transferred)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from tests.generator.personnel import period_name, period_start
from tests.generator.state import DEPUTY, HEAD, TRAINING_SOURCE, Person, ProvinceState

Act = Callable[[datetime], None]


def _someone(state: ProvinceState) -> Person | None:
    units = [u for u in state.open_units() if state.staff[u.unit_id]]
    if not units:
        return None
    unit = state.rng.choice(units)
    return state.people[state.rng.choice(list(state.staff[unit.unit_id]))]


def _end_not_held(state: ProvinceState) -> Act:
    def act(time: datetime) -> None:
        person = _someone(state)
        if person is None:
            return
        for role in (HEAD, DEPUTY):
            if (person.home, role) not in person.positions:
                state.emit(
                    time,
                    "hr.position.ended",
                    person.person_id,
                    {"unit_id": person.home, "role": role},
                )
                return

    return act


def _remove_not_planned(state: ProvinceState) -> Act:
    def act(time: datetime) -> None:
        person = _someone(state)
        period = period_name(period_start(time.year))
        if person is not None and (person.home, DEPUTY, period) not in person.planning:
            state.emit(
                time,
                "hr.planning.removed",
                person.person_id,
                {"unit_id": person.home, "role": DEPUTY, "period": period},
            )

    return act


def _ghost(state: ProvinceState, number: int) -> Act:
    ghost_id = f"P-X{number:05d}"

    def act(time: datetime) -> None:
        units = [u.unit_id for u in state.open_units() if u.level == "division"]
        if not units:
            return
        unit_id = state.rng.choice(units)
        state.emit(
            time,
            "hr.position.appointed",
            ghost_id,
            {"unit_id": unit_id, "role": DEPUTY, "decision_no": f"{number}/QĐ-SNV"},
        )
        state.emit(
            time + timedelta(days=20),
            "hr.training.completed",
            ghost_id,
            {"course_id": f"QLNN-{time.year}-01", "category": "state_management"},
            source=TRAINING_SOURCE,
        )
        state.emit(
            time + timedelta(days=40),
            "hr.planning.added",
            ghost_id,
            {"unit_id": unit_id, "role": HEAD, "period": period_name(period_start(time.year))},
        )

    return act


def schedule_anomalies(
    state: ProvinceState,
    low: datetime,
    high: datetime,
) -> list[tuple[datetime, Act]]:
    """A few of each mistake at random instants of the history."""
    rng = state.rng
    count = max(2, len(state.units) // 60)
    actions: list[tuple[datetime, Act]] = []
    for number in range(count):
        for act in (_end_not_held(state), _remove_not_planned(state), _ghost(state, number)):
            instant = low + timedelta(hours=1) + (high - low - timedelta(days=60)) * rng.random()
            actions.append((instant.replace(second=0, microsecond=0), act))
    return actions
