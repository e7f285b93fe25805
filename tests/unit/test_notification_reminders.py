"""Deadline reminders for the units a plan covers, and the daily data-quality summary."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from services.notifications.domain.reminders import (
    AnomalySeen,
    batch_summaries,
    data_quality_summary,
    deadline_reminders,
    summary_batches,
    units_covered,
)
from services.notifications.domain.rules import DATA_QUALITY, DEADLINE_APPROACHING
from shared.organisation import Organisation
from shared.plans import Plan, load_plans
from tests.facts import unit_at

PLANS = {plan.id: plan for plan in load_plans(Path(__file__).parents[2] / "deploy" / "plans")}
LEADS = (30, 7, 1)
VALID_FROM = "2020-01-01T00:00:00+00:00"


def lang_son() -> Organisation:
    organisation = Organisation()
    for record in (
        unit_at("U-0001", [], "province", valid_from=VALID_FROM),
        unit_at("A1", ["U-0001"], "agency", valid_from=VALID_FROM),
        unit_at("S1", ["U-0001", "A1"], "public_service_unit", valid_from=VALID_FROM),
        unit_at("D1", ["U-0001", "A1"], "division", valid_from=VALID_FROM),
        unit_at("A9", ["U-0001"], "agency", active=False, valid_from=VALID_FROM),
        unit_at("OTHER", [], "province", valid_from=VALID_FROM),
    ):
        organisation.apply(record)
    return organisation


def test_the_units_a_plan_covers() -> None:
    organisation = lang_son()
    assert units_covered(PLANS["lang-son-dolisa-2022"], organisation) == ["U-0001", "A1", "S1"]
    assert units_covered(PLANS["national-2282"], organisation) == ["OTHER", "U-0001"]
    assert units_covered(PLANS["kien-giang-2016"], organisation) == []  # scope unknown here


def reminders_on(day: dt.date, plans: list[Plan] | None = None) -> list[tuple[str, str, int, int]]:
    found = deadline_reminders(
        plans or [PLANS["lang-son-dolisa-2022"]], lang_son(), today=day, lead_times_days=LEADS
    )
    assert all(c.rule == DEADLINE_APPROACHING for c in found)
    return [
        (c.unit_id, c.details["due"], c.details["lead_days"], c.details["days_left"]) for c in found
    ]


def test_on_1_november_the_30_day_reminder_of_15_november_is_due() -> None:
    assert reminders_on(dt.date(2026, 11, 1)) == [
        (u, "2026-11-15", 30, 14) for u in ("U-0001", "A1", "S1")
    ]


@pytest.mark.parametrize(
    ("day", "lead"),
    [
        (dt.date(2026, 10, 15), None),  # 31 days ahead: nothing yet
        (dt.date(2026, 10, 16), 30),
        (dt.date(2026, 11, 7), 30),
        (dt.date(2026, 11, 8), 7),
        (dt.date(2026, 11, 14), 1),
        (dt.date(2026, 11, 15), None),  # the day itself: too late to remind
    ],
)
def test_the_reminder_due_is_the_one_of_the_shortest_lead_reached(
    day: dt.date, lead: int | None
) -> None:
    leads = {lead_days for _, _, lead_days, _ in reminders_on(day)}
    assert leads == ({lead} if lead else set())


def test_a_reminder_keeps_its_id_from_day_to_day_and_each_lead_has_its_own() -> None:
    def ids(day: dt.date) -> list[str]:
        plan = PLANS["lang-son-dolisa-2022"]
        reminders = deadline_reminders([plan], lang_son(), today=day, lead_times_days=LEADS)
        return [c.notification_id for c in reminders]

    assert ids(dt.date(2026, 11, 1)) == ids(dt.date(2026, 11, 2))
    assert not set(ids(dt.date(2026, 11, 1))) & set(ids(dt.date(2026, 11, 8)))
    assert len(set(ids(dt.date(2026, 11, 1)))) == 3


def test_severity_rises_as_the_deadline_nears() -> None:
    plan = PLANS["lang-son-dolisa-2022"]
    by_day = {
        day: {
            c.severity
            for c in deadline_reminders([plan], lang_son(), today=day, lead_times_days=LEADS)
        }
        for day in (dt.date(2026, 11, 1), dt.date(2026, 11, 8), dt.date(2026, 11, 14))
    }
    assert list(by_day.values()) == [{"info"}, {"warning"}, {"critical"}]


def test_a_one_off_deadline_and_a_plan_whose_scope_exists() -> None:
    organisation = Organisation()
    organisation.apply(unit_at("KG-0001", [], "province", valid_from=VALID_FROM))
    organisation.apply(unit_at("KG-A", ["KG-0001"], "agency", valid_from=VALID_FROM))
    found = deadline_reminders(
        [PLANS["kien-giang-2016"]],
        organisation,
        today=dt.date(2017, 1, 20),
        lead_times_days=LEADS,
    )
    assert [(c.unit_id, c.details["deadline"], c.details["lead_days"]) for c in found] == [
        ("KG-0001", "implementation-plans", 7),
        ("KG-A", "implementation-plans", 7),
    ]


def test_the_daily_summary_counts_by_kind_and_names_no_person() -> None:
    summary = data_quality_summary(
        "D1",
        dt.date(2026, 11, 20),
        {"position_not_held": 2, "registered_twice": 1, "other": 0},
        unit_name="Phòng D1",
        batch="b1",
    )
    assert summary.rule == DATA_QUALITY
    assert summary.details["counts"] == {"position_not_held": 2, "registered_twice": 1}
    assert summary.details["total"] == 3
    again = data_quality_summary(
        "D1", dt.date(2026, 11, 20), {"x": 5}, unit_name="Phòng D1", batch="b1"
    )
    assert again.notification_id == summary.notification_id  # one summary per batch
    other_day = data_quality_summary(
        "D1", dt.date(2026, 11, 21), {"x": 5}, unit_name="Phòng D1", batch="b1"
    )
    assert other_day.notification_id != summary.notification_id
    later = data_quality_summary(
        "D1", dt.date(2026, 11, 20), {"x": 1}, unit_name="Phòng D1", batch="b2"
    )
    assert later.notification_id != summary.notification_id  # a later batch: its own summary


def seen(
    anomaly_id: str, unit_id: str, day: str, kind: str, batch: str | None = None
) -> AnomalySeen:
    return AnomalySeen(anomaly_id, unit_id, day, kind, batch)


def test_anomalies_are_claimed_in_one_batch_per_unit_and_day_named_by_what_it_holds() -> None:
    unclaimed = [
        seen("a2", "D1", "2026-11-20", "x"),
        seen("a1", "D1", "2026-11-20", "y"),
        seen("a3", "D1", "2026-11-21", "x"),
        seen("a4", "D2", "2026-11-20", "x"),
    ]
    batches = summary_batches(unclaimed)
    assert sorted(batches.values()) == [["a1", "a2"], ["a3"], ["a4"]]
    assert summary_batches(reversed(unclaimed)) == batches  # the same anomalies: the same names
    late = summary_batches([seen("a5", "D1", "2026-11-20", "x")])
    assert not set(late) & set(batches)  # a later batch of the same unit and day: another name


def test_each_claimed_batch_is_one_summary_of_exactly_its_anomalies() -> None:
    claimed = [
        seen("a1", "D1", "2026-11-20", "x", "b1"),
        seen("a2", "D1", "2026-11-20", "x", "b1"),
        seen("a5", "D1", "2026-11-20", "y", "b2"),
        seen("a6", "D1", "2026-11-20", "y"),  # not claimed (yet): in no summary
    ]
    summaries = batch_summaries(claimed, unit_name=lambda unit_id: f"Phòng {unit_id}")
    assert [(c.details["counts"], ids) for c, ids in summaries] == [
        ({"x": 2}, ["a1", "a2"]),
        ({"y": 1}, ["a5"]),
    ]
    first, second = (c for c, _ in summaries)
    assert first.details["day"] == second.details["day"] == "2026-11-20"
    assert first.notification_id != second.notification_id
