"""Units' own inspection facts and their roll-up over subtrees (pure functions)."""

from __future__ import annotations

from datetime import date

from services.inspections.documents import facts_document, facts_from_document, unit_status
from services.inspections.domain.units import OpenItem, contributions, own_facts, rollups
from shared.internal import UnitChanged
from tests.facts import unit_at
from tests.unit.test_inspection_fold import (
    event,
    finding,
    fold,
    planned,
    recommended,
    resolved,
)

TODAY = date(2026, 11, 21)


def unit(
    unit_id: str, path: list[str], level: str = "division", active: bool = True
) -> UnitChanged:
    return unit_at(unit_id, path, level, active=active, closure=None if active else "dissolved")


def test_own_facts_of_a_unit_sum_its_inspections() -> None:
    state = fold(
        planned(0),
        event("inspection.started", 31),
        finding(35),
        recommended(40),
        recommended(41, "R2", due="2026-06-30"),
        recommended(42, "R3", unit="D9"),
        resolved(50),
    )
    parts = contributions(state, TODAY)
    assert sorted(p.unit_id for p in parts) == ["D1", "D2", "D9"]
    d1 = own_facts("D1", parts)
    assert d1.inspected_years == [2026]
    assert d1.last_inspected_on == date(2026, 4, 1)
    assert d1.open_recommendations == (OpenItem(date(2026, 6, 30), "I1", "R2", True),)
    assert dict(d1.findings_by_severity) == {"major": 1}
    d9 = own_facts("D9", parts)  # named by a recommendation only: not inspected
    assert d9.inspected_years == []
    assert len(d9.open_recommendations) == 1
    assert own_facts("D2", parts).open_recommendations == ()
    # the published record and the stored document round-trip
    fields = facts_document(d1)
    assert facts_from_document("D1", fields) == d1
    published = unit_status("D1", 3, fields)
    assert published.revision == 3
    assert published.inspected_years == [2026]
    assert [(r.recommendation_id, r.overdue) for r in published.open_recommendations] == [
        ("R2", True)
    ]


def test_pending_and_cancelled_inspections_contribute_nothing() -> None:
    assert contributions(fold(finding(3), recommended(4)), TODAY) == ()
    cancelled = fold(planned(0), recommended(4), event("inspection.cancelled", 5, {"reason": "x"}))
    assert contributions(cancelled, TODAY) == ()


def test_rollups_count_active_units_of_the_subtree() -> None:
    tree = {
        "P": unit("P", [], "province"),
        "A": unit("A", ["P"], "agency"),
        "D1": unit("D1", ["P", "A"]),
        "D2": unit("D2", ["P", "A"]),
        "D3": unit("D3", ["P", "A"], active=False),
    }
    state = fold(planned(0, units=("D1", "D3")), recommended(40, due="2026-06-30"))
    parts = contributions(state, TODAY)
    facts = {u: own_facts(u, parts) for u in ("D1", "D3")}
    result = rollups(tree, facts, 2026)
    assert set(result) == {"P", "A", "D1", "D2", "D3"}
    top = result["P"]
    assert (top.divisions, top.divisions_inspected) == (2, 1)  # D3 is closed
    assert top.subtree.inspections_this_year == 1
    assert (top.subtree.open_recommendations, top.subtree.overdue_recommendations) == (1, 1)
    assert top.own.open_recommendations == 0
    assert result["D1"].own.inspections_this_year == 1
    assert rollups(tree, facts, 2027)["P"].divisions_inspected == 0  # a new year
    assert set(rollups(tree, facts, 2026, targets=["A"])) == {"A"}
