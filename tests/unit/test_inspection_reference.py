"""The generated province's inspections, the independent recomputation, and the service's
own fold: all three agree on what the generator knows happened."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.inspections.domain.inspection import fold_inspection
from services.inspections.domain.units import Contribution, contributions, own_facts, rollups
from shared.clock import VIETNAM
from shared.contract import INSPECTIONS_TOPIC
from shared.envelope import decode_record
from shared.history import merge_into_history
from shared.internal import UnitChanged
from tests import reference, reference_inspections
from tests.generator import ProvinceShape, generate_with_snapshot
from tests.generator.model import Province

SMALL = ProvinceShape(agencies=6, years=3)


@pytest.fixture(scope="module", params=[(7, ProvinceShape()), (3, SMALL)], ids=["7", "3-small"])
def province(request: pytest.FixtureRequest) -> Province:
    seed, shape = request.param
    return generate_with_snapshot(seed, shape)[0]


def test_the_hr_stream_is_the_same_with_or_without_inspections() -> None:
    with_them = generate_with_snapshot(3, SMALL)[0]
    without = generate_with_snapshot(3, ProvinceShape(agencies=6, years=3, inspections=False))[0]
    assert [r for r in with_them.records if r.topic != INSPECTIONS_TOPIC] == without.records
    assert without.inspections is None
    again = generate_with_snapshot(3, SMALL)[0]
    assert [r.value for r in again.records] == [r.value for r in with_them.records]


def test_the_stream_carries_inspections_with_disorder(province: Province) -> None:
    records = [r for r in province.records if r.topic == INSPECTIONS_TOPIC]
    events = [r.event for r in records if r.event is not None]
    types = {e.type for e in events}
    assert types >= {
        "inspection.planned",
        "inspection.finding_recorded",
        "inspection.recommendation_issued",
        "inspection.recommendation_resolved",
        "inspection.closed",
    }
    assert len({(e.source, e.id) for e in events}) < len(events)  # redeliveries
    assert any(e.time > province.now for e in events)  # future-dated
    poison = [r for r in records if r.poison is not None]
    assert poison
    for record in poison:
        with pytest.raises(Exception, match=r".") as raised:
            decode_record(record.topic, record.value, record.headers)
        assert getattr(raised.value, "kind", None) == record.poison
    arrival: dict[str, int] = {}
    for number, event in enumerate(events):
        arrival.setdefault(event.id, number)  # first arrival
    late_plans = [
        e
        for e in events
        if e.type == "inspection.planned"
        and any(o.subject == e.subject and arrival[o.id] < arrival[e.id] for o in events)
    ]
    assert late_plans  # some plans arrive after other events of their inspection


def test_reference_agrees_with_the_generators_ledger(province: Province) -> None:
    now, ledger = province.now, province.inspections
    assert ledger is not None
    events = province.events()
    world = reference.replay(events, now)
    base = reference.indicators(world, now)
    result = reference_inspections.indicators(events, now, world)
    assert set(result) == set(base)
    open_units = {u for u, unit in world.units.items() if not unit.closed}
    today = now.astimezone(VIETNAM).date()
    unresolved = [r for r in ledger.unresolved(now) if r.unit_id in open_units]
    root = result[province.root_unit_id]
    assert root["open_recommendations"] == (len(unresolved), None)
    overdue = sum(1 for r in unresolved if r.due < today)
    assert root["overdue_recommendations"] == (overdue, None)
    assert 0 < overdue < len(unresolved)  # some overdue, some still due
    covered = {
        u
        for inspection in ledger.inspections.values()
        if inspection.planned_at <= now
        and not (inspection.cancelled_at and inspection.cancelled_at <= now)
        and inspection.planned_start.year == today.year
        for u in inspection.unit_ids
        if u in open_units and world.units[u].level == "division"
    }
    divisions = sum(1 for u in open_units if world.units[u].level == "division")
    assert root["units_inspected_share_ytd"] == (len(covered), divisions)
    assert covered
    for unit_id, values in result.items():  # a subtree never counts more than the root
        assert values["open_recommendations"][0] <= len(unresolved), unit_id


def test_the_services_fold_agrees_with_the_reference(province: Province) -> None:
    """Recommendations the service's fold counts as unresolved are the reference's."""
    now = province.now
    found = reference_inspections.inspections(province.events(), now)
    decoded = [
        decode_record(r.topic, r.value, r.headers)
        for r in province.records
        if r.topic == INSPECTIONS_TOPIC and r.poison is None
    ]
    subjects = {e.subject for e in decoded}
    for subject in sorted(subjects):
        history, _ = merge_into_history([], [e for e in decoded if e.subject == subject])
        state = fold_inspection(subject, history, now)
        expected = found.get(subject)
        assert state.counted == (expected is not None and expected.status != "cancelled")
        mine = {r.recommendation_id for r in state.recommendations if r.unresolved}
        theirs = {
            rec_id
            for rec_id, r in (expected.recommendations.items() if expected else ())
            if not r.resolved and not r.withdrawn
        }
        assert mine == theirs, subject
        later = fold_inspection(subject, history, now + timedelta(days=400))
        assert later.next_event_due is None  # every decision has taken effect by then


def test_the_services_rollups_agree_with_the_reference_for_every_unit(province: Province) -> None:
    now = province.now
    events = province.events()
    world = reference.replay(events, now)
    expected = reference_inspections.indicators(events, now, world)
    tree = {
        unit_id: UnitChanged(
            unit_id=unit_id,
            revision=1,
            registered=True,
            name=unit.name,
            level=unit.level,
            parent_id=unit.parent_id,
            path=list(reversed(world.chain(unit_id)[1:])),
            active=not unit.closed,
            valid_from=None,
            valid_to=None,
            closure="dissolved" if unit.closed else None,
            merged_into=None,
            pending_parent=None,
            anomalies=[],
        )
        for unit_id, unit in world.units.items()
    }
    decoded = [
        decode_record(r.topic, r.value, r.headers)
        for r in province.records
        if r.topic == INSPECTIONS_TOPIC and r.poison is None
    ]
    today = now.astimezone(VIETNAM).date()
    parts: list[Contribution] = []
    for subject in sorted({e.subject for e in decoded}):
        history, _ = merge_into_history([], [e for e in decoded if e.subject == subject])
        parts += contributions(fold_inspection(subject, history, now), today)
    facts = {u: own_facts(u, parts) for u in {p.unit_id for p in parts}}
    computed = rollups(tree, facts, today.year)
    for unit_id, values in expected.items():
        mine = computed[unit_id]
        assert values == {
            "units_inspected_share_ytd": (mine.divisions_inspected, mine.divisions),
            "open_recommendations": (mine.subtree.open_recommendations, None),
            "overdue_recommendations": (mine.subtree.overdue_recommendations, None),
        }, unit_id
