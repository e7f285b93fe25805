"""Notification rules over previous → new status: each fires on its transition, once."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.notifications.domain.rules import (
    LAST_FEMALE_KEY_LEADER_LEFT,
    PLANNING_FLOOR_BREACHED,
    RECOMMENDATION_OVERDUE,
    TARGET_BREACHED,
    TARGET_RECOVERED,
    Candidate,
    indicator_rules,
    overdue_recommendation_rules,
)
from shared.internal import OpenRecommendation, UnitInspectionStatus
from shared.outbound import IndicatorValue, Target, UnitIndicators

TARGET = Target(plan="lang-son-dolisa-2022", year=2030, value=0.95)


def share(
    numerator: int, denominator: int | None, *, target: Target | None = None
) -> IndicatorValue:
    value = None if not denominator else numerator / denominator
    meets = None if target is None or value is None else value >= target.value
    return IndicatorValue(
        value=value, numerator=numerator, denominator=denominator, target=target, meets_target=meets
    )


def status(
    unit_id: str,
    version: int,
    level: str = "division",
    active: bool = True,
    **indicators: IndicatorValue,
) -> UnitIndicators:
    """A unit's status as the indicators service publishes it (contract section 4)."""
    return UnitIndicators(
        unit_id=unit_id,
        name=f"Phòng {unit_id}",
        level=level,
        parent_id="U-0001",
        active=active,
        as_of="2026-11-21T09:30:00+07:00",
        version=version,
        indicators=indicators,
    )


def rules_of(candidates: list[Candidate]) -> list[tuple[str, Any]]:
    return [(c.rule, c.details.get("indicator")) for c in candidates]


def targeted(numerator: int, denominator: int) -> UnitIndicators:
    return status(
        "A1",
        1,
        "agency",
        female_key_leader_division_share=share(numerator, denominator, target=TARGET),
    )


def test_a_breach_fires_on_the_step_below_target_and_not_while_it_stays_below() -> None:
    meets = status("A1", 1, "agency", female_key_leader_division_share=share(19, 20, target=TARGET))
    below = status("A1", 2, "agency", female_key_leader_division_share=share(18, 20, target=TARGET))
    lower = status("A1", 3, "agency", female_key_leader_division_share=share(17, 20, target=TARGET))
    fired = indicator_rules(meets, below)
    assert rules_of(fired) == [(TARGET_BREACHED, "female_key_leader_division_share")]
    assert fired[0].severity == "warning"
    assert fired[0].details["value"] == 0.9
    assert fired[0].details["target"] == TARGET.model_dump()
    assert fired[0].details["previous"]["numerator"] == 19
    assert indicator_rules(below, lower) == []


def test_a_unit_first_seen_below_target_is_a_breach_and_one_on_target_is_not() -> None:
    assert rules_of(indicator_rules(None, targeted(1, 2))) == [
        (TARGET_BREACHED, "female_key_leader_division_share")
    ]
    assert indicator_rules(None, targeted(20, 20)) == []


def test_recovery_fires_once_and_a_new_breach_after_it_is_a_new_notification() -> None:
    below = status("A1", 2, "agency", female_key_leader_division_share=share(1, 2, target=TARGET))
    back = status("A1", 3, "agency", female_key_leader_division_share=share(2, 2, target=TARGET))
    again = status("A1", 4, "agency", female_key_leader_division_share=share(1, 2, target=TARGET))
    recovered = indicator_rules(below, back)
    assert rules_of(recovered) == [(TARGET_RECOVERED, "female_key_leader_division_share")]
    assert recovered[0].severity == "info"
    first = indicator_rules(None, below)[0]
    second = indicator_rules(back, again)[0]
    assert second.rule == TARGET_BREACHED
    assert second.notification_id != first.notification_id


def test_indicators_without_a_target_and_closed_units_raise_nothing() -> None:
    before = status("A1", 1, "agency", female_staff_share=share(5, 10))
    after = status("A1", 2, "agency", female_staff_share=share(1, 10))
    assert indicator_rules(before, after) == []
    closed = status(
        "A1", 2, "agency", active=False, female_key_leader_division_share=share(0, 2, target=TARGET)
    )
    assert indicator_rules(targeted(2, 2), closed) == []


def test_the_same_transition_evaluated_twice_gives_the_same_ids() -> None:
    before, after = (
        targeted(2, 2),
        status("A1", 7, "agency", female_key_leader_division_share=share(0, 2, target=TARGET)),
    )
    first = [c.notification_id for c in indicator_rules(before, after)]
    again = [c.notification_id for c in indicator_rules(before, after)]
    assert first == again
    assert all(len(i) <= 128 and i.isascii() and i.isprintable() for i in first)


def test_the_last_woman_in_a_key_role_of_a_division_leaving() -> None:
    held = status("D1", 4, female_key_leader_division_share=share(1, 1))
    gone = status("D1", 5, female_key_leader_division_share=share(0, 1))
    fired = indicator_rules(held, gone)
    assert rules_of(fired) == [(LAST_FEMALE_KEY_LEADER_LEFT, "female_key_leader_division_share")]
    assert fired[0].severity == "critical"
    still_gone = status("D1", 6, female_key_leader_division_share=share(0, 1))
    assert indicator_rules(gone, still_gone) == []
    assert indicator_rules(None, gone) == []  # no transition seen: nobody is known to have left
    agency_before = status("A1", 1, "agency", female_key_leader_division_share=share(1, 1))
    agency_after = status("A1", 2, "agency", female_key_leader_division_share=share(0, 1))
    assert indicator_rules(agency_before, agency_after) == []  # only on divisions


def test_a_division_pool_falling_under_the_floor() -> None:
    met = status(
        "D1",
        1,
        units_meeting_planning_floor_share=share(1, 1),
        female_share_in_division_planning_pool=share(1, 4),
    )
    under = status(
        "D1",
        2,
        units_meeting_planning_floor_share=share(0, 1),
        female_share_in_division_planning_pool=share(1, 5),
    )
    fired = indicator_rules(met, under)
    assert rules_of(fired) == [(PLANNING_FLOOR_BREACHED, "units_meeting_planning_floor_share")]
    assert fired[0].details["pool_share"] == {"value": 0.2, "numerator": 1, "denominator": 5}
    empty = status("D1", 1, units_meeting_planning_floor_share=share(0, 0))
    assert indicator_rules(empty, under) == []  # an empty pool was not "met"
    assert indicator_rules(under, under.model_copy(update={"version": 3})) == []


@given(st.lists(st.sampled_from([True, False, None]), min_size=1, max_size=30))
def test_breaches_are_exactly_the_steps_into_below_target(path: list[bool | None]) -> None:
    """Whatever the sequence of states (meets, below, unknown), a breach is raised for each
    step into "below" and never while it stays below; every breach has its own id."""
    states = []
    for version, meets in enumerate(path, start=1):
        value = IndicatorValue(
            value=None if meets is None else (1.0 if meets else 0.5),
            numerator=2 if meets else 1,
            denominator=None if meets is None else 2,
            target=TARGET,
            meets_target=meets,
        )
        states.append(status("A1", version, "agency", female_key_leader_division_share=value))
    breaches: list[Candidate] = []
    previous = None
    for state in states:
        breaches += [c for c in indicator_rules(previous, state) if c.rule == TARGET_BREACHED]
        previous = state
    expected = sum(
        1 for i, meets in enumerate(path) if meets is False and (i == 0 or path[i - 1] is not False)
    )
    assert len(breaches) == expected
    assert len({c.notification_id for c in breaches}) == expected


def recommendation(rec_id: str, overdue: bool) -> OpenRecommendation:
    return OpenRecommendation(
        recommendation_id=rec_id, inspection_id="INS-1", due="2026-10-01", overdue=overdue
    )


def inspection(revision: int, *recommendations: OpenRecommendation) -> UnitInspectionStatus:
    return UnitInspectionStatus(
        unit_id="D1",
        revision=revision,
        open_recommendations=list(recommendations),
        inspected_years=[2026],
    )


def test_a_recommendation_becoming_overdue_fires_once_per_recommendation() -> None:
    open_ = inspection(1, recommendation("R1", False), recommendation("R2", False))
    one_late = inspection(2, recommendation("R1", True), recommendation("R2", False))
    both_late = inspection(3, recommendation("R1", True), recommendation("R2", True))
    first = overdue_recommendation_rules(open_, one_late, unit_name="Phòng D1")
    assert [(c.rule, c.details["recommendation_id"]) for c in first] == [
        (RECOMMENDATION_OVERDUE, "R1")
    ]
    second = overdue_recommendation_rules(one_late, both_late, unit_name="Phòng D1")
    assert [c.details["recommendation_id"] for c in second] == ["R2"]
    assert overdue_recommendation_rules(both_late, both_late, unit_name="x") == []
    # seen for the first time already overdue: it fires, with the same id as any other time
    fresh = overdue_recommendation_rules(None, one_late, unit_name="Phòng D1")
    assert [c.notification_id for c in fresh] == [c.notification_id for c in first]
