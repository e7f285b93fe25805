"""bench.tally_memory.changes_of: the reference world as the personnel service's change events."""

from __future__ import annotations

from bench.tally_memory import changes_of
from tests.generator import ProvinceShape, generate_province
from tests.reference import replay


def test_every_unit_and_person_of_the_world_becomes_a_change_event() -> None:
    province = generate_province(7, ProvinceShape(agencies=1, years=1))
    world = replay(province.events(), province.now)

    units, people = changes_of(world)

    assert {u.unit_id for u in units} == set(world.units)
    assert {p.person_id for p in people} == set(world.people)
    for change in units:
        state = world.units[change.unit_id]
        assert (change.name, change.level, change.parent_id) == (
            state.name,
            state.level,
            state.parent_id,
        )
        assert change.active is not state.closed
        assert change.path == list(reversed(world.chain(change.unit_id)[1:]))
