"""A seeded generator of a plausible province's HR event stream (Lạng Sơn-like).

>>> province = generate_province(7)
>>> for record in province.records: producer.send(record.topic, record.value,
...                                                key=record.key, headers=record.headers)

The stream is what a provincial HR system and a training system publish over ``years``
years ending at ``now``: the go-live load of units, staff, leaders and planning pools, then
month by month hires, appointments and term renewals, planning reviews, trainings,
transfers, corrections, leavings, renames, new divisions and the 2025-07-01
reorganisation; with the disorder the contract promises consumers (redeliveries,
backdated events, references ahead, future-dated events, poison, both Kafka bindings).
Deterministic for a seed, a shape and ``now``: event ids are uuid5 of a per-source counter
in a namespace made of all three (so two sources do share ids: the idempotency key is
(source, id)).
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime

from shared.clock import VIETNAM
from tests.generator.inspection_stream import merge_by_arrival
from tests.generator.inspections import inspection_records
from tests.generator.model import Province, ProvinceShape, Record
from tests.generator.simulation import Simulation
from tests.generator.state import ProvinceState, Snapshot
from tests.generator.stream import publish

__all__ = ["VIETNAM", "Province", "ProvinceShape", "Record", "generate_province"]

DEFAULT_NOW = datetime(2026, 11, 21, 9, 30, tzinfo=VIETNAM)
DEFAULT_SHAPE = ProvinceShape()


def generate_with_snapshot(
    seed: int,
    shape: ProvinceShape = DEFAULT_SHAPE,
    *,
    now: datetime = DEFAULT_NOW,
) -> tuple[Province, Snapshot]:
    """The province, and what the generator itself holds true at ``now`` (for tests)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rng = random.Random(seed)
    state = ProvinceState(rng)
    simulation = Simulation(state, shape, now)
    snapshot = simulation.run()
    namespace = uuid.uuid5(
        uuid.NAMESPACE_URL, f"https://parity.invalid/generator/{seed}/{shape!r}/{now.isoformat()}"
    )
    records = publish(
        state.drafts,
        shape,
        rng,
        namespace=namespace,
        live=simulation.live,
        now=now,
        root_id=simulation.root.unit_id,
    )
    ledger = None
    if shape.inspections:
        timed, ledger = inspection_records(
            state,
            shape,
            seed=seed,
            namespace=namespace,
            live=simulation.live,
            now=now,
            root_id=simulation.root.unit_id,
        )
        records = merge_by_arrival(records, timed)
    return Province(records, now, simulation.root.unit_id, ledger), snapshot


def generate_province(
    seed: int,
    shape: ProvinceShape = DEFAULT_SHAPE,
    *,
    now: datetime = DEFAULT_NOW,
) -> Province:
    """A province's HR stream, deterministic for ``seed``, ``shape`` and ``now``."""
    return generate_with_snapshot(seed, shape, now=now)[0]
