"""What the indicator service holds in memory for a province, and what a change costs it:

    python -m bench.tally_memory --agencies 550     # the 290,000-record province

No Kafka and no store: the generator's province is replayed by the independent reference
(tests/reference.py), and its people and units are turned into the change events the
personnel service would publish. Then, traced by tracemalloc (which slows allocation, so
the times are printed untraced):

- the ``PersonChanged`` models of every person (what the service kept before
  ``PersonFacts``);
- the tally built from them, each model read and dropped in turn as a reload does
  (``Tally.of``: facts, contributions, counters, indices);
- the last record of every unit as Python dicts, against the ``Seen`` the service keeps.

And untraced: a full rebuild; the change of one division (a rename), re-derived by
``Tally.refresh_units``, averaged over 200 divisions; and what a reload spends decoding the
people topic (services/indicators/people.py), per record, on one record per person (the
topic holds one per revision).
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from services.indicators.domain.contributions import Rules
from services.indicators.domain.indicators import indicator_values
from services.indicators.domain.publication import Seen, content_of
from services.indicators.domain.tally import Tally
from services.indicators.people import NewestPeople
from shared.envelope import encode_structured, new_event
from shared.internal import PERSON_CHANGED, PERSONNEL_SOURCE, PersonChanged, UnitChanged
from shared.plans import load_plans
from tests.facts import person, unit_at
from tests.generator import ProvinceShape, generate_province
from tests.reference import World, replay

PLANS_DIR = Path(__file__).resolve().parents[1] / "deploy" / "plans"


def changes_of(world: World) -> tuple[list[UnitChanged], list[PersonChanged]]:
    """The reference world as the personnel service's change events (tests/facts.py)."""
    units = [
        unit_at(
            unit_id,
            list(reversed(world.chain(unit_id)[1:])),
            u.level,
            active=not u.closed,
            name=u.name,
            parent_id=u.parent_id,
        )
        for unit_id, u in world.units.items()
    ]
    appointments: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for a in world.appointments:
        appointments[a.person_id].append((a.unit_id, a.time))
    people = [
        person(
            pid,
            gender=p.gender,
            home=p.home_unit_id,
            positions=tuple(sorted(p.positions)),
            pools=tuple(sorted({u for u, _, _ in p.planning})),
            trainings=tuple(t for t, _ in p.trainings),
            training_categories=tuple(c for _, c in p.trainings),
            appointments=tuple(appointments[pid]),
            left=p.left,
            ethnic_minority=p.ethnic_minority,
        )
        for pid, p in world.people.items()
    ]
    return units, people


def traced(build: Callable[[], Any]) -> tuple[Any, float]:
    """What ``build`` returns, and the MB it still holds once built."""
    gc.collect()
    tracemalloc.start()
    built = build()
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    return built, held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    province = generate_province(args.seed, ProvinceShape(agencies=args.agencies, years=2))
    world = replay(province.events(), province.now)
    print(f"{len(province.records)} records: {len(world.units)} units, {len(world.people)} people")
    (units, people), models = traced(lambda: changes_of(world))
    print(f"PersonChanged and UnitChanged models: {models:.1f} MB")
    now, rules = province.now, Rules()
    stored = [person.model_dump_json() for person in people]  # as a reload reads them
    del people

    def built() -> Tally:
        read = (PersonChanged.model_validate_json(document) for document in stored)
        return Tally.of(units=units, people=read, inspections=[], rules=rules, now=now)

    tally, held = traced(built)
    print(f"tally (PersonFacts, contributions, counters, indices): {held:.1f} MB")

    started = time.perf_counter()
    tally.rebuild(now)
    print(f"full rebuild: {time.perf_counter() - started:.2f} s")
    values = [
        encode_structured(
            new_event(
                source=PERSONNEL_SOURCE,
                type_=PERSON_CHANGED,
                subject=facts["person_id"],
                time=now,
                data=facts,
            )
        )[0]
        for facts in map(json.loads, stored)
    ]
    started = time.perf_counter()
    NewestPeople().take(values)
    per_record = (time.perf_counter() - started) / len(values) * 1e6
    print(f"people topic decoded by a reload: {per_record:.0f} µs a record ({len(values)} records)")
    divisions = [u for u in units if u.level == "division"][:200]
    started = time.perf_counter()
    for division in divisions:
        renamed = {"revision": division.revision + 1, "name": "renamed"}
        tally.put_unit(division.model_copy(update=renamed))
        tally.refresh_units({division.unit_id}, now)
    per_change = (time.perf_counter() - started) / max(1, len(divisions)) * 1000
    print(f"a division's change: {per_change:.2f} ms (mean of {len(divisions)})")

    plans, year = load_plans(PLANS_DIR), now.year

    def contents() -> dict[str, dict[str, Any]]:
        organisation = tally.organisation
        return {
            unit_id: content_of(
                state,
                indicator_values(
                    tally.counters,
                    unit_id,
                    chain=organisation.ancestors_and_self(unit_id),
                    plans=plans,
                    year=year,
                ),
            )
            for unit_id, state in organisation.units.items()
        }

    records, as_dicts = traced(contents)
    _, as_seen = traced(lambda: {u: Seen.of(1, c) for u, c in records.items()})
    print(f"last records of {len(records)} units: {as_dicts:.1f} MB as dicts,", end=" ")
    print(f"{as_seen:.1f} MB as Seen")


if __name__ == "__main__":
    main()
