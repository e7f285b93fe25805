"""The personnel service's tree and the reference recomputation (tests/reference.py, rules
4, 5 and 8) place units the same way after merges and dissolutions, including units placed
under a unit that had closed already, and refuse the same moves that would make a unit its
own ancestor."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.personnel.domain.units import derive_tree, fold_unit
from shared.contract import UNITS_TOPIC
from shared.envelope import CloudEvent, InboundEvent, decode_record, encode_structured
from shared.history import merge_into_history
from tests import reference
from tests.events import unit_dissolved, unit_merged, unit_registered, unit_updated

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def inbound(event: CloudEvent) -> InboundEvent:
    return decode_record(UNITS_TOPIC, *encode_structured(event))


def service_paths(events: list[CloudEvent]) -> dict[str, tuple[str, ...]]:
    by_unit: dict[str, list[InboundEvent]] = defaultdict(list)
    for event in events:
        by_unit[event.subject].append(inbound(event))
    states = {
        unit_id: fold_unit(unit_id, merge_into_history([], history)[0], NOW)
        for unit_id, history in by_unit.items()
    }
    return {u: p.path for u, p in derive_tree(states).items() if p.active}


def reference_paths(events: list[CloudEvent]) -> dict[str, tuple[str, ...]]:
    world = reference.replay(events, NOW)
    open_units = {u for u, unit in world.units.items() if not unit.closed}
    return {
        u: tuple(a for a in reversed(world.chain(u)[1:]) if a in open_units) for u in open_units
    }


def tree() -> list[CloudEvent]:
    return [
        unit_registered("P", None, "province", day=0),
        unit_registered("A", "P", "agency", day=0),
        unit_registered("B", "P", "agency", day=0),
        unit_registered("M", "A", "division", day=1),
        unit_registered("K", "M", "division", day=2),
    ]


@pytest.mark.parametrize(
    "later",
    [
        [unit_merged("M", "B", day=5)],
        [unit_merged("M", "B", day=5), unit_registered("C", "M", day=6)],
        [unit_merged("M", "B", day=5), unit_updated("K", day=6, parent_id="M")],
        [unit_dissolved("M", day=5), unit_registered("C", "M", day=6)],
        [unit_merged("A", "B", day=5), unit_registered("C", "M", day=6)],
        [unit_dissolved("C", day=5), unit_registered("C", "A", day=10)],
        [unit_merged("C", "B", day=5), unit_registered("C", "A", day=10)],
        [unit_merged("M", "M", day=5)],
        [unit_merged("A", "M", day=5)],
        [unit_updated("A", day=5, parent_id="K")],
        [unit_updated("A", day=5, parent_id="K"), unit_updated("K", day=6, parent_id="B")],
        [unit_registered("X", "Y", day=3), unit_registered("Y", "X", day=4)],
        [
            unit_registered("X", "Y", day=3),
            unit_updated("A", day=4, parent_id="X"),
            unit_registered("Y", "K", day=5),
        ],
        [unit_merged("A", "M", day=5), unit_updated("M", day=6, parent_id="A")],
        [unit_registered("X", "A", day=0), unit_merged("A", "X", day=0)],
    ],
    ids=[
        "merge",
        "registered-under-merged",
        "moved-under-merged",
        "under-dissolved",
        "nested",
        "dissolved-before-registered",
        "merged-before-registered",
        "merged-into-itself",
        "merged-into-its-child",
        "moved-under-its-grandchild",
        "moved-under-its-grandchild-which-moves-away-later",
        "registered-under-each-other",
        "registered-under-its-descendant",
        "moved-under-the-unit-merged-into-it",
        "registered-and-merged-into-at-one-instant",
    ],
)
def test_the_service_and_the_reference_place_units_alike(later: list[CloudEvent]) -> None:
    events = tree() + later
    assert service_paths(events) == reference_paths(events)


UNIT_IDS = ("P", "A", "B", "C", "D")
_parents = st.sampled_from((None, *UNIT_IDS))


@st.composite
def unit_events(draw: st.DrawFn) -> list[CloudEvent]:
    """Registrations, moves, merges and dissolutions among a few units, any of them under
    or into any other, each on its own day (the order they take effect is the order drawn)."""
    events = []
    for day in range(draw(st.integers(1, 12))):
        unit_id, other = draw(st.sampled_from(UNIT_IDS)), draw(_parents)
        kind = draw(st.sampled_from(("registered", "updated", "merged", "dissolved")))
        if kind == "registered":
            events.append(unit_registered(unit_id, other, day=day))
        elif kind == "dissolved":
            events.append(unit_dissolved(unit_id, day=day))
        elif other is not None and kind == "updated":
            events.append(unit_updated(unit_id, day=day, parent_id=other))
        elif other is not None:
            events.append(unit_merged(unit_id, other, day=day))
    return events


@settings(max_examples=500, deadline=None)
@given(unit_events())
def test_no_unit_is_ever_its_own_ancestor_and_the_two_agree(events: list[CloudEvent]) -> None:
    paths = service_paths(events)
    for unit_id, path in paths.items():
        assert unit_id not in path
        if path:
            assert paths[path[-1]] == path[:-1]  # its parent's path, then its parent
    assert paths == reference_paths(events)
