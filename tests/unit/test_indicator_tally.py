"""The indicator service's pure core: contributions, the tally kept by differences, values."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.indicators.domain.contributions import Rules, is_qualifying, training_expiry
from services.indicators.domain.indicators import figures, indicator_values, meets
from services.indicators.domain.publication import Seen, content_of, fingerprint, is_news
from services.indicators.domain.tally import Tally
from services.indicators.handlers import in_steps
from shared.clock import VIETNAM
from shared.internal import (
    OpenRecommendation,
    PersonChanged,
    UnitChanged,
    UnitInspectionStatus,
)
from shared.outbound import Target
from tests import reference
from tests.facts import TREE, person, unit

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=VIETNAM)


def tally_of(*people: PersonChanged, units: tuple[UnitChanged, ...] = ()) -> Tally:
    tally = Tally()
    for u in units or tuple(unit(u) for u in TREE):
        tally.put_unit(u)
    for p in people:
        tally.put_person(p)
    tally.rebuild(NOW)
    return tally


def test_a_division_counts_once_whatever_the_number_of_women_leading_it() -> None:
    tally = tally_of(
        person("W1", positions=(("D1", "head"),)),
        person("W2", positions=(("D1", "deputy_head"),)),
        person("M1", gender="male", positions=(("D2", "head"),)),
    )
    agency = figures(tally.counters, "A")
    assert agency["female_key_leader_division_share"] == (1, 3)
    assert agency["female_leader_share"] == (2, 3)
    assert agency["female_head_share"] == (1, 2)
    assert figures(tally.counters, "D1")["female_key_leader_division_share"] == (1, 1)
    assert figures(tally.counters, "P")["female_key_leader_agency_share"] == (0, 2)


def test_a_person_in_two_pools_is_one_person_and_the_floor_is_inclusive() -> None:
    tally = tally_of(
        person("W1", pools=("D1", "D2")),
        person("M1", gender="male", pools=("D1",)),
        person("M2", gender="male", pools=("D1",)),
        person("M3", gender="male", pools=("D1",)),
    )
    agency = figures(tally.counters, "A")
    assert agency["female_share_in_division_planning_pool"] == (1, 4)
    assert agency["units_with_female_in_planning_share"] == (2, 3)
    # D1: 1 woman in 4 (exactly 25%: met); D2: 1 in 1; D3: empty pool, not counted
    assert agency["units_meeting_planning_floor_share"] == (2, 2)


def test_people_who_left_or_whose_home_unit_closed_count_nowhere() -> None:
    tally = tally_of(
        person("W1", positions=(("D1", "head"),), left=True),
        person("W2", home="D2", positions=(("D1", "head"),)),
        units=(*(unit(u) for u in TREE if u != "D2"), unit("D2", active=False)),
    )
    agency = figures(tally.counters, "A")
    assert agency["female_leader_share"] == (0, 0)
    assert agency["female_staff_share"] == (0, 0)
    assert agency["female_key_leader_division_share"] == (0, 2)


def test_a_training_qualifies_for_five_calendar_years_to_the_instant() -> None:
    completed = datetime(2021, 11, 21, 9, 30, tzinfo=VIETNAM)
    assert training_expiry(completed, Rules()) == completed.replace(year=2026) + timedelta(
        microseconds=1
    )
    tally = tally_of(person("W1", pools=("D1",), trainings=(completed,)))
    assert figures(tally.counters, "A")["trained_share_of_planned_women"] == (1, 1)
    later = NOW + timedelta(seconds=1)
    assert tally.due(later) == {"W1"}
    tally.refresh_people(tally.due(later), later)
    assert figures(tally.counters, "A")["trained_share_of_planned_women"] == (0, 1)


def test_a_training_dated_after_now_counts_from_its_time() -> None:
    """Its person change may arrive early when the personnel host's clock is ahead."""
    completed = NOW + timedelta(hours=1)
    tally = tally_of(person("W1", pools=("D1",), trainings=(completed,)))
    assert figures(tally.counters, "A")["trained_share_of_planned_women"] == (0, 1)
    later = completed + timedelta(seconds=1)
    assert tally.due(later) == {"W1"}
    tally.refresh_people(tally.due(later), later)
    assert figures(tally.counters, "A")["trained_share_of_planned_women"] == (1, 1)


@pytest.mark.parametrize("years", [4, 5])
@pytest.mark.parametrize(
    "completed",
    [
        datetime(2023, 2, 28, 12, 0, tzinfo=VIETNAM),
        datetime(2024, 2, 28, 12, 0, tzinfo=VIETNAM),
        datetime(2024, 2, 29, 10, 0, tzinfo=VIETNAM),
        datetime(2023, 3, 1, 0, 0, tzinfo=VIETNAM),
        datetime(2024, 3, 1, 0, 0, tzinfo=VIETNAM),
    ],
)
def test_a_training_qualifies_as_the_reference_reads_the_contract_around_29_february(
    completed: datetime, years: int
) -> None:
    """The service's expiry and the reference's cutoff (``now`` N calendar years earlier)
    agree at every instant around 29 February 2028, a leap year, for trainings five and
    four years before (2023 has no 29 February, 2024 has)."""
    rules = Rules(qualifying_training_years=years)
    start = datetime(2028, 2, 27, 0, 0, tzinfo=VIETNAM)
    for hour in range(0, 4 * 24):
        now = start + timedelta(hours=hour, minutes=30)
        service = is_qualifying("leadership", completed, now, rules)
        cutoff = reference._years_before(now, years)
        assert service == (cutoff <= completed <= now), (now, completed, years)


def test_appointments_count_this_local_year_and_lapse_at_the_new_year() -> None:
    this_year = datetime(2026, 1, 1, 0, 0, tzinfo=VIETNAM)  # 2025-12-31 17:00 UTC
    last_year = this_year - timedelta(seconds=1)
    tally = tally_of(
        person("W1", appointments=(("D1", this_year), ("D1", last_year))),
        person("M1", gender="male", left=True, appointments=(("D2", this_year),)),
    )
    assert figures(tally.counters, "A")["female_share_of_appointments_ytd"] == (1, 2)
    new_year = datetime(2027, 1, 1, tzinfo=VIETNAM)
    assert tally.due(new_year) == {"W1", "M1"}
    tally.refresh_people(tally.due(new_year), new_year)  # a new year: everything re-derived
    assert figures(tally.counters, "A")["female_share_of_appointments_ytd"] == (0, 0)


def test_recommendations_and_inspected_divisions_roll_up() -> None:
    tally = tally_of()
    status = UnitInspectionStatus(
        unit_id="D1",
        revision=1,
        open_recommendations=[
            OpenRecommendation(recommendation_id="R1", inspection_id="I", due="2026-01-01",
                               overdue=True),
            OpenRecommendation(recommendation_id="R2", inspection_id="I", due="2027-01-01",
                               overdue=False),
        ],
        inspected_years=[2025, 2026],
    )  # fmt: skip
    tally.put_inspection(status)
    assert tally.refresh_units({"D1"}, NOW) >= {"D1", "A", "P"}
    agency = figures(tally.counters, "A")
    assert agency["open_recommendations"] == (2, None)
    assert agency["overdue_recommendations"] == (1, None)
    assert agency["units_inspected_share_ytd"] == (1, 3)


def test_an_older_or_repeated_fact_changes_nothing() -> None:
    tally = tally_of(person("W1", revision=2, positions=(("D1", "head"),)))
    assert not tally.put_person(person("W1", revision=1))
    assert not tally.put_person(person("W1", revision=2))
    assert tally.put_person(person("W1", revision=3))


def test_values_targets_and_meeting_them() -> None:
    tally = tally_of(person("W1", positions=(("D1", "head"),)))
    target = Target(plan="p", year=2030, value=0.95)
    assert meets(None, target) is None
    values = indicator_values(tally.counters, "A", chain=["A", "P"], plans=[], year=2026)
    share = values["female_key_leader_division_share"]
    assert (share.value, share.numerator, share.denominator) == (1 / 3, 1, 3)
    assert share.target is None
    assert share.meets_target is None
    assert values["open_recommendations"].denominator is None
    from fractions import Fraction

    assert meets(Fraction(19, 20), target) is True  # exact: 19/20 meets 0.95
    assert meets(Fraction(18, 20), target) is False


def test_a_closed_unit_publishes_one_last_record() -> None:
    tally = tally_of()
    open_content = content_of(unit("D1"), {})
    closed = unit("D1", active=False, revision=2)
    closed_content = content_of(closed, {})
    assert is_news(unit("D1"), Seen.of(1, open_content), None)
    assert not is_news(unit("D1"), Seen.of(2, open_content), Seen.of(1, open_content))
    assert is_news(closed, Seen.of(2, closed_content), Seen.of(1, open_content))
    other = Seen.of(2, closed_content | {"name": "other"})
    assert not is_news(closed, Seen.of(3, closed_content), other)
    assert tally.organisation.is_active("D1")


def test_a_fingerprint_ignores_the_order_of_keys_and_sees_every_value() -> None:
    content = {"active": True, "indicators": {"x": {"numerator": 1, "value": 0.5}}, "name": "D"}
    reordered = {"name": "D", "indicators": {"x": {"value": 0.5, "numerator": 1}}, "active": True}
    assert fingerprint(content) == fingerprint(reordered)
    nested = {**content, "indicators": {"x": {"numerator": 2, "value": 0.5}}}
    assert fingerprint(nested) != fingerprint(content)
    assert fingerprint({**content, "name": None}) != fingerprint(content)


roles = st.sampled_from(["head", "deputy_head"])
units_ = st.sampled_from(["P", "A", "D1", "D2", "D3"])
facts = st.builds(
    lambda pid, gender, home, pos, pools, left, em: (pid, gender, home, pos, pools, left, em),
    st.sampled_from(["X1", "X2", "X3", "X4"]),
    st.sampled_from(["female", "male"]),
    units_,
    st.lists(st.tuples(units_, roles), max_size=3),
    st.lists(units_, max_size=3),
    st.booleans(),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(facts, min_size=1, max_size=25), st.sets(units_, max_size=2))
def test_counters_kept_by_differences_equal_a_full_rebuild(
    changes: list[Any], closed: set[str]
) -> None:
    incremental = Tally()
    for u in TREE:
        incremental.put_unit(unit(u, active=u not in closed))
    incremental.rebuild(NOW)
    revisions: dict[str, int] = {}
    for pid, gender, home, positions, pools, left, em in changes:
        revisions[pid] = revisions.get(pid, 0) + 1
        fact = person(
            pid, revision=revisions[pid], gender=gender, home=home,
            positions=tuple(positions), pools=tuple(pools), left=left, ethnic_minority=em,
            appointments=tuple((u, NOW - timedelta(days=1)) for u, _ in positions),
        )  # fmt: skip
        incremental.put_person(fact)
        incremental.refresh_people({pid}, NOW)
    rebuilt = Tally(organisation=incremental.organisation, people=dict(incremental.people))
    rebuilt.rebuild(NOW)
    assert +incremental.counters == +rebuilt.counters
    assert all(v > 0 for v in incremental.counters.values())


def test_the_rebuild_reports_the_units_whose_counters_moved() -> None:
    tally = tally_of(person("W1", home="D2", positions=(("D2", "head"),)))
    tally.put_unit(unit("D2", active=False, revision=2))
    changed = tally.rebuild(datetime(2026, 11, 22, tzinfo=UTC))
    assert {"D2", "A", "P"} <= changed
    assert "D3" not in changed


def test_a_rebuild_in_steps_pauses_and_ends_as_the_rebuild_in_one_go() -> None:
    women = [person(f"W{i}", positions=((f"D{1 + i % 3}", "head"),)) for i in range(7)]
    whole, stepped = tally_of(*women), tally_of(*women)
    whole.put_unit(unit("D2", active=False, revision=2))
    stepped.put_unit(unit("D2", active=False, revision=2))
    later = datetime(2026, 11, 22, tzinfo=UTC)
    expected = whole.rebuild(later)

    steps = stepped.rebuilding(later, pause_every=2)
    pauses = 0
    while True:
        try:
            next(steps)
            pauses += 1
        except StopIteration as done:
            changed = done.value
            break
    assert pauses == 7 // 2 + len(TREE) // 2  # people, then units
    assert changed == expected
    assert +stepped.counters == +whole.counters


async def test_the_service_lets_other_tasks_run_while_it_rebuilds() -> None:
    """A consumer's heartbeat is such a task: starved for its session timeout, the
    consumer is put out of its group (services/indicators/handlers.in_steps)."""
    tally = tally_of(*(person(f"W{i}", positions=(("D1", "head"),)) for i in range(10)))
    beats = 0

    async def heartbeat() -> None:
        nonlocal beats
        while True:
            beats += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(heartbeat())
    await asyncio.sleep(0)
    before = beats
    await in_steps(tally.rebuilding(NOW, pause_every=2))
    during = beats - before
    task.cancel()
    assert during >= 5  # one per pause at least: 10 people, 5 units, a pause every 2


def test_the_readme_explains_every_indicator_as_the_catalogue_does() -> None:
    from pathlib import Path

    from services.indicators.domain.indicators import CATALOGUE

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for indicator in CATALOGUE:
        assert f"| `{indicator.id}` | {indicator.meaning} |" in readme
