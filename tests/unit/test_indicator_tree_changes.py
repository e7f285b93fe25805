"""A change of the tree re-derives only the changed units and the people naming them; the
counters must still equal a full rebuild, and every unit whose counters moved is reported."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.indicators.domain.tally import Tally
from shared.internal import UnitChanged
from tests.facts import person
from tests.unit.test_indicator_tally import NOW

AGENCIES = ("A", "A2")
DIVISIONS = ("D1", "D2", "D3", "D4")  # D4 is named by people before it is registered


def division(unit_id: str, parent: str, active: bool, revision: int) -> UnitChanged:
    return UnitChanged.model_validate(
        {
            "unit_id": unit_id, "revision": revision, "registered": True, "name": unit_id,
            "level": "division", "parent_id": parent, "path": ["P", parent], "active": active,
            "valid_from": None, "valid_to": None, "closure": None, "merged_into": None,
            "pending_parent": None, "anomalies": [],
        }
    )  # fmt: skip


def top(unit_id: str, parent: str | None, level: str) -> UnitChanged:
    return division(unit_id, "A", True, 1).model_copy(
        update={"level": level, "parent_id": parent, "path": [parent] if parent else []}
    )


named = st.sampled_from(DIVISIONS + AGENCIES)
person_op = st.tuples(
    st.just("person"),
    st.sampled_from(["X1", "X2", "X3"]),
    st.sampled_from(["female", "male"]),
    named,
    st.lists(st.tuples(named, st.sampled_from(["head", "deputy_head"])), max_size=2),
    st.lists(named, max_size=2),
)
unit_op = st.tuples(
    st.just("unit"), st.sampled_from(DIVISIONS), st.sampled_from(AGENCIES), st.booleans()
)


def tally_of_the_tree() -> Tally:
    tally = Tally()
    tally.put_unit(top("P", None, "province"))
    for agency in AGENCIES:
        tally.put_unit(top(agency, "P", "agency"))
    for unit_id in DIVISIONS[:3]:
        tally.put_unit(division(unit_id, "A", True, 1))
    tally.rebuild(NOW)
    return tally


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(person_op, unit_op), min_size=1, max_size=30))
def test_unit_changes_applied_to_the_people_naming_them_equal_a_full_rebuild(
    ops: list[Any],
) -> None:
    tally = tally_of_the_tree()
    revisions: Counter[str] = Counter({u: 1 for u in DIVISIONS[:3]})
    for op in ops:
        before = Counter(tally.counters)
        if op[0] == "person":
            _, pid, gender, home, positions, pools = op
            revisions[pid] += 1
            tally.put_person(
                person(
                    pid, revision=revisions[pid], gender=gender, home=home,
                    positions=tuple(positions), pools=tuple(pools),
                    appointments=tuple((u, NOW - timedelta(days=1)) for u, _ in positions),
                )
            )  # fmt: skip
            touched = tally.refresh_people({pid}, NOW)
        else:
            _, unit_id, parent, active = op
            revisions[unit_id] += 1
            tally.put_unit(division(unit_id, parent, active, revisions[unit_id]))
            touched = tally.refresh_units({unit_id}, NOW)
        moved = {
            u
            for u, _ in before.keys() | tally.counters.keys()
            if before[u, _] != tally.counters[u, _]
        }
        assert moved <= touched

    rebuilt = Tally(organisation=tally.organisation, people=dict(tally.people))
    rebuilt.rebuild(NOW)
    assert +tally.counters == +rebuilt.counters


def test_closing_a_unit_takes_its_people_out_of_its_agency() -> None:
    tally = tally_of_the_tree()
    tally.put_person(person("W1", home="D2", positions=(("D2", "head"),)))
    tally.refresh_people({"W1"}, NOW)
    assert tally.counters["A", "female_leader"] == 1

    tally.put_unit(division("D2", "A", False, 2))
    touched = tally.refresh_units({"D2"}, NOW)

    assert tally.counters["A", "female_leader"] == 0
    assert tally.counters["A", "staff"] == 0
    assert {"D2", "A", "P"} <= touched
