"""The indicator service's rebalance listener (services/indicators/app.py): an assignment
leaves the reload to the next batch or sweep, since aiokafka sends no heartbeat while the
listener runs."""

from __future__ import annotations

from typing import Any, cast

from aiokafka import TopicPartition

from services.indicators.app import Ownership, Runtime
from services.indicators.domain.contributions import Rules
from services.indicators.domain.tally import Tally
from services.indicators.handlers import Collaborators, Province


class Untouchable:
    """A collaborator the listener must not use."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the rebalance listener used {name}")


def runtime_with(province: Province) -> Runtime:
    untouchable = cast(Any, Untouchable())
    deps = Collaborators(
        store=untouchable,
        people=untouchable,
        feed=untouchable,
        clock=untouchable,
        metrics=untouchable,
        plans=[],
        rules=Rules(),
        province=province,
    )
    return Runtime(clients=untouchable, deps=deps, dead_letters=untouchable)


async def test_an_assignment_marks_the_province_stale_without_reading_anything() -> None:
    province = Province(tally=Tally())
    runtime = runtime_with(province)
    listener = Ownership(runtime)

    await listener.on_partitions_assigned([TopicPartition("parity.personnel.people.v1", 0)])
    assert runtime.owner
    assert province.stale

    await listener.on_partitions_revoked([TopicPartition("parity.personnel.people.v1", 0)])
    assert not runtime.owner


async def test_an_empty_assignment_leaves_the_province_as_it_is() -> None:
    province = Province(tally=Tally())
    runtime = runtime_with(province)
    await Ownership(runtime).on_partitions_assigned([])
    assert not runtime.owner
    assert not province.stale
