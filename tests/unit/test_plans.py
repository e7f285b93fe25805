"""Plans: validation with file and line, target resolution, deadlines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from shared.plans import (
    PlanError,
    load_plans,
    parse_plan,
    plans_in_force,
    target_for,
    targets_for,
)

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "plans"

LOCAL = """\
id: local
title: A province's plan
issued_by: Province
issued_on: 2022-03-15
scope_unit_id: U-0001
targets:
  female_key_leader_division_share: {2025: 0.90, 2030: 0.95}
deadlines:
  - id: annual-report
    title: Báo cáo hằng năm
    month: 11
    day: 15
"""
NATIONAL = """\
id: national
title: The national programme
issued_by: Government
issued_on: 2021-12-31
targets:
  female_key_leader_division_share: {2030: 0.60}
  female_key_leader_agency_share: {2025: 0.60, 2030: 0.75}
"""


def test_the_shipped_plans_load() -> None:
    plans = {p.id: p for p in load_plans(SHIPPED)}
    assert set(plans) == {"lang-son-dolisa-2022", "kien-giang-2016", "national-2282"}
    assert plans["national-2282"].scope_unit_id is None
    assert plans["kien-giang-2016"].tracked == ["units_meeting_planning_floor_share"]


def test_the_nearest_scoped_plan_wins_and_a_national_plan_comes_last() -> None:
    plans = [parse_plan(LOCAL, "local.yaml"), parse_plan(NATIONAL, "national.yaml")]
    chain = ["U-0009", "U-0002", "U-0001"]
    division = target_for(plans, chain, "female_key_leader_division_share", 2026)
    assert division is not None
    assert (division.plan, division.year, division.value) == ("local", 2030, 0.95)
    agency = target_for(plans, chain, "female_key_leader_agency_share", 2025)
    assert agency is not None
    assert (agency.plan, agency.year, agency.value) == ("national", 2025, 0.60)
    assert target_for(plans, chain, "female_key_leader_agency_share", 2031) is None
    assert target_for(plans, chain, "female_staff_share", 2026) is None
    assert [p.id for p in plans_in_force(plans, ["U-0777"])] == ["national"]
    names = ["female_key_leader_division_share", "female_key_leader_agency_share", "x"]
    found = targets_for(plans, chain, names, 2025)
    assert {n: t and (t.plan, t.year, t.value) for n, t in found.items()} == {
        "female_key_leader_division_share": ("local", 2025, 0.90),
        "female_key_leader_agency_share": ("national", 2025, 0.60),
        "x": None,
    }


def test_at_equal_scope_the_plan_issued_last_wins() -> None:
    older = parse_plan(
        LOCAL.replace("id: local", "id: older").replace("2022-03-15", "2020-01-01"), "o"
    )
    newer = parse_plan(LOCAL.replace("0.95", "0.99"), "n")
    target = target_for([older, newer], ["U-0001"], "female_key_leader_division_share", 2026)
    assert target is not None
    assert (target.plan, target.value) == ("local", 0.99)


def test_every_problem_is_reported_with_its_file_and_line(tmp_path: Path) -> None:
    bad = LOCAL.replace(
        "female_key_leader_division_share: {2025: 0.90, 2030: 0.95}",
        "no_such_indicator: {2025: 1.5}",
    ).replace("day: 15", "day: 42")
    (tmp_path / "bad.yaml").write_text(bad, encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_plans(tmp_path)
    message = str(caught.value)
    assert f"{tmp_path / 'bad.yaml'}:7: targets" in message
    assert f"{tmp_path / 'bad.yaml'}:12: deadlines.0.day" in message
    assert f"{tmp_path / 'broken.yaml'}:" in message


def test_a_plan_id_used_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(LOCAL, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(LOCAL, encoding="utf-8")
    with pytest.raises(PlanError, match="used twice"):
        load_plans(tmp_path)


def test_a_yearly_deadline_on_29_february_is_the_28th_except_in_a_leap_year() -> None:
    plan = parse_plan(
        LOCAL.replace("    month: 11\n    day: 15\n", "    month: 2\n    day: 29\n"), "x"
    )
    assert plan.deadlines[0].occurrences(dt.date(2027, 1, 1), dt.date(2029, 12, 31)) == [
        dt.date(2027, 2, 28),
        dt.date(2028, 2, 29),
        dt.date(2029, 2, 28),
    ]


def test_deadlines_yearly_and_once() -> None:
    plan = parse_plan(LOCAL, "local.yaml")
    yearly = plan.deadlines[0]
    assert yearly.occurrences(dt.date(2025, 11, 1), dt.date(2026, 12, 31)) == [
        dt.date(2025, 11, 15),
        dt.date(2026, 11, 15),
    ]
    once = parse_plan(
        LOCAL.replace("    month: 11\n    day: 15\n", "    date: 2017-01-25\n"), "once.yaml"
    ).deadlines[0]
    assert once.occurrences(dt.date(2017, 1, 1), dt.date(2017, 12, 31)) == [dt.date(2017, 1, 25)]
    assert once.occurrences(dt.date(2018, 1, 1), dt.date(2018, 12, 31)) == []
    with pytest.raises(PlanError, match="either month and day"):
        parse_plan(LOCAL.replace("    day: 15\n", "    day: 15\n    date: 2017-01-25\n"), "x")
