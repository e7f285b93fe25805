"""The people fold: hand-computed cases for every rule, and order-independence as a property."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.personnel.domain.people import PersonState, fold_person
from services.personnel.domain.units import UnitDirectory, UnitState, fold_unit
from shared.contract import EVENT_TYPES
from shared.envelope import InboundEvent
from shared.history import merge_into_history

T0 = datetime(2024, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 21, tzinfo=UTC)


def event(
    type_: str, subject: str, day: int, data: dict[str, Any], *, seq: int | None = None
) -> InboundEvent:
    payload = EVENT_TYPES[type_].payload.model_validate(data)
    return InboundEvent(
        source="hrms/test",
        id=f"{subject}-{type_}-{day}-{seq}",
        type=type_,
        subject=subject,
        time=T0 + timedelta(days=day),
        sequence=seq,
        payload=payload,
    )


def registered(day: int = 0, unit: str = "D1", gender: str = "female") -> InboundEvent:
    return event(
        "hr.person.registered",
        "P1",
        day,
        {
            "person_id": "P1",
            "gender": gender,
            "ethnic_minority": True,
            "category": "civil_servant",
            "unit_id": unit,
        },
    )


def appointed(day: int, unit: str = "D1", role: str = "head") -> InboundEvent:
    return event("hr.position.appointed", "P1", day, {"unit_id": unit, "role": role})


def directory(*units: UnitState) -> UnitDirectory:
    return UnitDirectory.of({u.unit_id: u for u in units})


def unit(unit_id: str, *events: InboundEvent) -> UnitState:
    reg = event(
        "hr.unit.registered",
        unit_id,
        -10,
        {"unit_id": unit_id, "name": unit_id, "parent_id": None, "level": "division"},
    )
    history, _ = merge_into_history([], [reg, *events])
    return fold_unit(unit_id, history, NOW)


UNITS = directory(unit("D1"), unit("D2"))


def fold(*events: InboundEvent, units: UnitDirectory = UNITS, now: datetime = NOW) -> PersonState:
    history, _ = merge_into_history([], events)
    return fold_person("P1", history, units, now)


def test_registered_person_is_active_staff_of_home_unit() -> None:
    state = fold(registered())
    assert state.active
    assert (state.home_unit_id, state.gender, state.ethnic_minority) == ("D1", "female", True)


def test_transfer_ends_positions_in_the_old_home_unit_only() -> None:
    state = fold(
        registered(),
        appointed(1, "D1"),
        appointed(2, "D2", "deputy_head"),
        event("hr.person.transferred", "P1", 3, {"unit_id": "D2"}),
    )
    assert [(p.unit_id, p.role) for p in state.positions] == [("D2", "deputy_head")]
    assert state.home_unit_id == "D2"
    assert len(state.appointments) == 2


def test_leaving_ends_every_position_and_planning_entry() -> None:
    state = fold(
        registered(),
        appointed(1),
        event(
            "hr.planning.added", "P1", 2, {"unit_id": "D2", "role": "head", "period": "2021-2026"}
        ),
        event("hr.person.left", "P1", 3, {"reason": "retired"}),
    )
    assert not state.active
    assert state.positions == ()
    assert state.planning_entries == ()
    assert state.left_reason == "retired"


def test_after_leaving_corrections_and_trainings_are_recorded_and_nothing_else() -> None:
    """Contract: the appointments of the year count by the appointee's current record, who
    need not be active now; a training completed after leaving still happened."""
    state = fold(
        registered(gender="male"),
        appointed(1),
        event("hr.person.left", "P1", 3, {"reason": "retired"}),
        event("hr.person.updated", "P1", 4, {"gender": "female"}),
        event("hr.training.completed", "P1", 5, {"course_id": "C1", "category": "leadership"}),
        appointed(6, unit="D2"),
    )
    assert state.gender == "female"
    assert [t.course_id for t in state.trainings] == ["C1"]
    assert state.positions == ()
    assert len(state.appointments) == 1
    assert [a.kind for a in state.anomalies] == ["event_after_leaving"]


def test_ending_a_position_not_held_is_an_anomaly_not_a_crash() -> None:
    state = fold(
        registered(), event("hr.position.ended", "P1", 1, {"unit_id": "D1", "role": "head"})
    )
    assert [a.kind for a in state.anomalies] == ["position_not_held"]
    assert state.active


def test_events_of_a_person_never_registered_change_nothing_but_are_recorded() -> None:
    state = fold(appointed(1))
    assert state.positions == ()
    assert not state.active
    assert [a.kind for a in state.anomalies] == ["person_not_registered"]


def test_a_backdated_registration_is_put_in_its_place() -> None:
    late = registered(day=0)
    state = fold(appointed(5), late)  # the registration arrives second but took effect first
    assert [p.role for p in state.positions] == ["head"]
    assert state.anomalies == ()


def test_future_dated_event_waits_until_its_time() -> None:
    future = appointed(day=(NOW - T0).days + 30)
    waiting = fold(registered(), future)
    assert waiting.positions == ()
    assert waiting.next_due == future.time
    later = fold(registered(), future, now=future.time)
    assert [p.role for p in later.positions] == ["head"]
    assert later.next_due is None


def test_reference_to_unknown_unit_is_pending_until_the_unit_arrives() -> None:
    state = fold(registered(unit="D9"))
    assert state.pending_units == ("D9",)
    assert not state.active
    arrived = fold(registered(unit="D9"), units=directory(unit("D1"), unit("D9")))
    assert arrived.pending_units == ()
    assert arrived.active


def test_merge_moves_people_and_ends_positions_and_planning_in_the_closed_unit() -> None:
    merge = event("hr.unit.merged", "D1", 10, {"unit_id": "D1", "into_unit_id": "D2"})
    units = directory(unit("D1", merge), unit("D2"))
    state = fold(
        registered(),
        appointed(1),
        event(
            "hr.planning.added", "P1", 2, {"unit_id": "D1", "role": "head", "period": "2021-2026"}
        ),
        units=units,
    )
    assert state.home_unit_id == "D2"
    assert state.active
    assert state.positions == ()
    assert state.planning_entries == ()


def merged(unit_id: str, into: str, day: int) -> InboundEvent:
    return event("hr.unit.merged", unit_id, day, {"unit_id": unit_id, "into_unit_id": into})


def test_a_chain_of_merges_on_one_day_takes_people_to_its_end_whatever_the_ids() -> None:
    for first, second in (("D1", "D2"), ("D2", "D1")):  # D2 sorts after D1, then before
        chain = unit(first, merged(first, second, 10)), unit(second, merged(second, "AG", 10))
        units = directory(*chain, unit("AG"))
        state = fold(registered(unit=first), units=units)
        assert (state.home_unit_id, state.active) == ("AG", True), (first, second)


def test_a_merge_into_a_unit_merged_away_before_takes_people_on() -> None:
    chain = unit("D1", merged("D1", "D2", 10)), unit("D2", merged("D2", "AG", 5))
    units = directory(*chain, unit("AG"))
    state = fold(registered(unit="D1"), units=units)
    assert (state.home_unit_id, state.active) == ("AG", True)


def test_unit_events_take_effect_before_person_events_of_the_same_time() -> None:
    merge = event("hr.unit.merged", "D1", 10, {"unit_id": "D1", "into_unit_id": "D2"})
    units = directory(unit("D1", merge), unit("D2"))
    state = fold(registered(), appointed(10, "D1"), units=units)
    # the merge came first, so the appointment is to a closed unit: held, but never active
    assert [p.unit_id for p in state.positions] == ["D1"]


def test_dissolve_leaves_people_homed_there_counting_nowhere() -> None:
    dissolve = event("hr.unit.dissolved", "D1", 10, {"unit_id": "D1"})
    state = fold(registered(), appointed(1), units=directory(unit("D1", dissolve), unit("D2")))
    assert not state.active
    assert state.home_unit_id == "D1"
    assert state.positions == ()
    assert "homed_in_dissolved_unit" in [a.kind for a in state.anomalies]


# --- order independence -------------------------------------------------------------------

UNIT_IDS = st.sampled_from(["D1", "D2"])
ROLES = st.sampled_from(["head", "deputy_head"])


@st.composite
def person_event(draw: st.DrawFn, day: int) -> InboundEvent:
    kind = draw(
        st.sampled_from(
            [
                "registered",
                "transferred",
                "appointed",
                "ended",
                "planned",
                "unplanned",
                "trained",
                "updated",
                "left",
            ]
        )
    )
    unit_id, role = draw(UNIT_IDS), draw(ROLES)
    planning = {"unit_id": unit_id, "role": role, "period": "2021-2026"}
    cases: dict[str, tuple[str, dict[str, Any]]] = {
        "registered": (
            "hr.person.registered",
            {
                "person_id": "P1",
                "gender": draw(st.sampled_from(["female", "male"])),
                "ethnic_minority": draw(st.booleans()),
                "category": "cadre",
                "unit_id": unit_id,
            },
        ),
        "transferred": ("hr.person.transferred", {"unit_id": unit_id}),
        "appointed": ("hr.position.appointed", {"unit_id": unit_id, "role": role}),
        "ended": ("hr.position.ended", {"unit_id": unit_id, "role": role}),
        "planned": ("hr.planning.added", planning),
        "unplanned": ("hr.planning.removed", planning),
        "trained": ("hr.training.completed", {"course_id": f"C{day}", "category": "leadership"}),
        "updated": ("hr.person.updated", {"gender": draw(st.sampled_from(["female", "male"]))}),
        "left": ("hr.person.left", {"reason": "retired"}),
    }
    type_, data = cases[kind]
    return event(type_, "P1", day, data, seq=draw(st.none() | st.integers(0, 3)))


@st.composite
def histories(draw: st.DrawFn) -> list[InboundEvent]:
    days = draw(st.lists(st.integers(0, 2000), min_size=1, max_size=25, unique=True))
    return [draw(person_event(day)) for day in days]


@settings(max_examples=300, deadline=None)
@given(events=histories(), data=st.data())
def test_any_permutation_and_duplication_gives_the_same_state(
    events: list[InboundEvent], data: st.DataObject
) -> None:
    merge = event("hr.unit.merged", "D1", 1000, {"unit_id": "D1", "into_unit_id": "D2"})
    units = directory(unit("D1", merge), unit("D2"))
    expected = fold(*events, units=units)
    shuffled = data.draw(st.permutations(events))
    duplicated = data.draw(st.lists(st.sampled_from(events), max_size=5))
    arrival = list(shuffled)
    for extra in duplicated:
        arrival.insert(data.draw(st.integers(0, len(arrival))), extra)
    assert fold(*arrival, units=units) == expected
