"""The inspection fold: the whole lifecycle, every wrong order, and order-independence."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.inspections.domain.inspection import (
    InspectionState,
    fold_inspection,
    overdue_from,
)
from shared.clock import VIETNAM
from shared.contract import EVENT_TYPES
from shared.envelope import InboundEvent
from shared.history import merge_into_history

T0 = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 21, 2, 30, tzinfo=UTC)


def event(type_: str, day: float, data: dict[str, Any] | None = None, **ids: str) -> InboundEvent:
    payload = EVENT_TYPES[type_].payload.model_validate(data or {})
    return InboundEvent(
        source="inspections/test",
        id=ids.get("id", f"{type_}-{day}"),
        type=type_,
        subject="I1",
        time=T0 + timedelta(days=day),
        sequence=None,
        payload=payload,
    )


def planned(day: float = 0, units: tuple[str, ...] = ("D1", "D2"), **ids: str) -> InboundEvent:
    data = {
        "inspection_id": "I1",
        "title": "Kiểm tra công tác quy hoạch cán bộ nữ",
        "kind": "examination",
        "scope": ["planning", "gender_mainstreaming"],
        "unit_ids": list(units),
        "lead_unit_id": "A",
        "inter_sectoral": False,
        "planned_start": "2026-04-01",
        "planned_end": "2026-04-30",
    }
    return event("inspection.planned", day, data, **ids)


def finding(day: float, finding_id: str = "F1", unit: str = "D1") -> InboundEvent:
    data = {
        "finding_id": finding_id,
        "unit_id": unit,
        "severity": "major",
        "topic": "planning",
        "summary": "Quy hoạch chưa đủ tỷ lệ nữ",
    }
    return event("inspection.finding_recorded", day, data, id=f"f-{finding_id}-{day}")


def recommended(
    day: float,
    rec: str = "R1",
    unit: str = "D1",
    due: str = "2026-12-31",
    finding: str | None = None,
) -> InboundEvent:
    data = {"recommendation_id": rec, "unit_id": unit, "summary": "Bổ sung", "due": due}
    if finding is not None:
        data["finding_id"] = finding
    return event("inspection.recommendation_issued", day, data, id=f"r-{rec}-{day}")


def resolved(day: float, rec: str = "R1") -> InboundEvent:
    data = {"recommendation_id": rec, "resolution": "Đã bổ sung"}
    return event("inspection.recommendation_resolved", day, data, id=f"x-{rec}-{day}")


def fold(*events: InboundEvent, now: datetime = NOW) -> InspectionState:
    history, _ = merge_into_history([], events)
    return fold_inspection("I1", history, now)


def kinds(state: InspectionState) -> list[str]:
    return [a.kind for a in state.anomalies]


def statuses(state: InspectionState, now: datetime = NOW) -> dict[str, str]:
    today = now.astimezone(VIETNAM).date()
    return {r.recommendation_id: r.status(today) for r in state.recommendations}


def test_a_whole_inspection() -> None:
    state = fold(
        planned(0),
        event("inspection.started", 31),
        finding(35),
        finding(36, "F2", "D2"),
        recommended(40, finding="F1"),
        recommended(40.5, "R2", "D2", due="2026-11-20", finding="F2"),
        resolved(60),
        event("inspection.closed", 70, {"conclusion": "Cơ bản đạt yêu cầu"}),
    )
    assert state.status == "closed"
    assert state.plan is not None
    assert state.plan.unit_ids == ("D1", "D2")
    assert state.inspected_on() == date(2026, 4, 1)
    assert state.conclusion == "Cơ bản đạt yêu cầu"
    assert [f.finding_id for f in state.findings] == ["F1", "F2"]
    assert statuses(state) == {"R1": "resolved", "R2": "overdue"}  # due 20 Nov, today 21 Nov
    assert state.anomalies == ()
    assert state.next_due is None  # nothing left to turn overdue


def test_a_recommendation_turns_overdue_the_day_after_it_is_due() -> None:
    events = (planned(0), recommended(40, due="2026-11-21"))
    state = fold(*events)
    assert statuses(state) == {"R1": "open"}
    turning = datetime(2026, 11, 22, tzinfo=VIETNAM)
    assert overdue_from(date(2026, 11, 21)) == turning
    assert state.next_due == turning
    assert statuses(fold(*events, now=turning), now=turning) == {"R1": "overdue"}
    just_before = turning - timedelta(microseconds=1)
    assert statuses(fold(*events, now=just_before), now=just_before) == {"R1": "open"}


def test_events_of_an_inspection_never_planned_wait_and_count_nowhere() -> None:
    state = fold(finding(35), recommended(40))
    assert state.status == "pending"
    assert state.findings == ()
    assert state.recommendations == ()
    assert kinds(state) == ["inspection_not_planned"] * 2
    # the plan arrives late but takes effect earlier: everything is applied, nothing amiss
    late = fold(finding(35), recommended(40), planned(0))
    assert late.status == "planned"
    assert [r.recommendation_id for r in late.recommendations] == ["R1"]
    assert late.anomalies == ()


def test_a_plan_effective_after_its_findings_applies_them_as_anomalies() -> None:
    state = fold(finding(35), planned(50))
    assert state.status == "planned"
    assert [f.finding_id for f in state.findings] == ["F1"]
    assert kinds(state) == ["event_before_planned"]


def test_a_recommendation_resolved_twice_keeps_the_first_resolution() -> None:
    state = fold(planned(0), recommended(40), resolved(50), resolved(55))
    (rec,) = state.recommendations
    assert rec.resolved_at == T0 + timedelta(days=50)
    assert kinds(state) == ["resolved_twice"]


def test_findings_and_recommendations_after_closure_are_not_applied() -> None:
    state = fold(
        planned(0),
        recommended(40),
        event("inspection.closed", 70, {"conclusion": "Kết luận"}),
        finding(75, "F9"),
        recommended(76, "R9"),
        resolved(80),  # follow-up after closure is normal
        event("inspection.started", 81),
    )
    assert state.status == "closed"
    assert state.findings == ()
    assert statuses(state) == {"R1": "resolved"}
    assert kinds(state) == ["event_after_closure"] * 3


def test_a_recommendation_for_a_unit_not_inspected_is_applied_and_noted() -> None:
    state = fold(planned(0), finding(35, unit="D9"), recommended(40, unit="D9"))
    assert [r.unit_id for r in state.recommendations] == ["D9"]
    assert kinds(state) == ["unit_not_inspected", "unit_not_inspected"]


def test_resolving_an_unknown_recommendation_is_noted_until_its_issue_arrives() -> None:
    early = fold(planned(0), resolved(50))
    assert kinds(early) == ["unknown_recommendation"]
    assert early.recommendations == ()
    later = fold(planned(0), resolved(50), recommended(40))  # issued earlier, arrived later
    assert statuses(later) == {"R1": "resolved"}
    assert later.anomalies == ()


def test_a_recommendation_resolved_before_its_issue_is_resolved_as_it_is_issued() -> None:
    """The two systems' clocks or a clerk's date disagree: the resolution is not lost, and
    the recommendation does not stay open (and turn overdue) for good."""
    state = fold(planned(0), resolved(38), recommended(40))
    (recommendation,) = state.recommendations
    assert statuses(state) == {"R1": "resolved"}
    assert recommendation.resolved_at == recommendation.issued_at
    assert kinds(state) == ["unknown_recommendation"]


def test_cancelling_withdraws_open_recommendations() -> None:
    state = fold(
        planned(0),
        recommended(40),
        recommended(41, "R2"),
        resolved(45, "R2"),
        event("inspection.cancelled", 50, {"reason": "Trùng kế hoạch"}),
        event("inspection.closed", 60, {"conclusion": "x"}),
    )
    assert state.status == "cancelled"
    assert not state.counted
    assert statuses(state) == {"R1": "withdrawn", "R2": "resolved"}
    assert kinds(state) == ["event_after_closure"]
    assert state.next_due is None


def test_a_future_dated_event_waits_for_its_time() -> None:
    closing = event("inspection.closed", 300, {"conclusion": "x"})
    state = fold(planned(0), closing)
    assert state.status == "planned"
    assert state.next_event_due == closing.time
    assert fold(planned(0), closing, now=closing.time).status == "closed"


def test_repeated_ids_and_second_starts_are_noted_and_the_first_stands() -> None:
    state = fold(
        planned(0),
        event("inspection.started", 31),
        event("inspection.started", 32),
        finding(35),
        finding(36),
        recommended(40, due="2027-01-01"),
        recommended(41, due="2027-02-01"),
        recommended(42, "R3", finding="F7"),
    )
    assert state.started_at == T0 + timedelta(days=31)
    assert [r.due for r in state.recommendations] == [date(2027, 1, 1), date(2026, 12, 31)]
    assert kinds(state) == [
        "started_twice",
        "duplicate_finding",
        "duplicate_recommendation",
        "unknown_finding",
    ]


EVENTS = (
    planned(0),
    event("inspection.started", 31),
    finding(35),
    finding(36, "F2", "D9"),
    recommended(40),
    recommended(41, "R2", due="2026-05-01"),
    resolved(50),
    resolved(51),
    resolved(52, "R3"),
    event("inspection.closed", 70, {"conclusion": "x"}),
    finding(75, "F3"),
    planned(80, id="replan"),
)


@settings(max_examples=200, deadline=None)
@given(st.permutations(EVENTS), st.lists(st.integers(0, len(EVENTS) - 1), max_size=4))
def test_the_result_does_not_depend_on_arrival_order_or_redeliveries(
    order: list[InboundEvent], again: list[int]
) -> None:
    arrivals = [*order, *(order[i] for i in again)]
    assert fold(*arrivals) == fold(*EVENTS)
