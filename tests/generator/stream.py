"""From the HR system's events to the records a producer publishes, in arrival order.

Arrival is effective time plus a data-entry lag, kept in effective order per subject,
then disturbed on purpose: backdated events (a subject's event arriving after later ones),
unit registrations arriving after events that name the unit (references ahead), decisions
published before they take effect (future-dated), redeliveries (the same record again,
later) and poison records. ``sequence`` numbers each source's events per subject in
effective order; the training system sets none, the HR system leaves it out now and then
where no other event of the subject has the same time.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from shared.contract import EVENT_TYPES, PERSONNEL_TOPIC
from shared.envelope import encode_binary, encode_structured, new_event
from tests.generator.model import ProvinceShape, Record
from tests.generator.poison import Ingredients, poison_records
from tests.generator.state import HR_SOURCE, Draft

DAY = 86400.0


def _by_subject(drafts: list[Draft]) -> dict[str, list[Draft]]:
    groups: dict[str, list[Draft]] = defaultdict(list)
    for draft in drafts:
        groups[draft.subject].append(draft)
    for group in groups.values():
        group.sort(key=lambda d: (d.time, d.order))
    return groups


def _number(groups: dict[str, list[Draft]], rng: random.Random) -> None:
    for group in groups.values():
        counters: dict[str, int] = defaultdict(int)
        for index, draft in enumerate(group):
            if draft.source != HR_SOURCE:
                continue
            counters[draft.source] += 1
            tied = any(
                0 <= j < len(group) and j != index and group[j].time == draft.time
                for j in (index - 1, index + 1)
            )
            if tied or rng.random() >= 0.04:
                draft.sequence = counters[draft.source]


def _arrive(
    groups: dict[str, list[Draft]], rng: random.Random, live: datetime, now: datetime
) -> None:
    """Effective time plus a lag; decisions taking effect later are published before now."""
    for group in groups.values():
        previous = float("-inf")
        for draft in group:
            if draft.time > now:
                arrival = now.timestamp() - rng.uniform(0, 25 * DAY)
            elif draft.time < live:  # the go-live load, published in one go
                arrival = draft.time.timestamp()
            else:
                arrival = draft.time.timestamp() + min(rng.expovariate(4 / DAY), 7 * DAY)
            draft.arrival = previous = max(arrival, previous + 0.001)


def _backdate(groups: dict[str, list[Draft]], rng: random.Random, count: int) -> None:
    eligible = [
        (group, index)
        for group in groups.values()
        for index, draft in enumerate(group)
        if EVENT_TYPES[draft.type].topic == PERSONNEL_TOPIC
        and draft.type != "hr.person.registered"
        and index + 1 < len(group)
        and group[-1].time > draft.time
    ]
    for group, index in rng.sample(eligible, min(count, len(eligible))):
        later = [d for d in group[index + 1 : index + 4] if d.time > group[index].time]
        if later:
            group[index].arrival = rng.choice(later).arrival + rng.uniform(60, 7 * DAY)


def _run_ahead(
    drafts: list[Draft],
    groups: dict[str, list[Draft]],
    rng: random.Random,
    count: int,
    root_id: str,
) -> None:
    """Publish some units' registrations after events that name them."""
    naming: dict[str, list[Draft]] = defaultdict(list)
    for draft in drafts:
        named = (
            draft.data.get("parent_id")
            if draft.type == "hr.unit.registered"
            else (
                draft.data.get("unit_id")
                if EVENT_TYPES[draft.type].topic == PERSONNEL_TOPIC
                else None
            )
        )
        if isinstance(named, str):
            naming[named].append(draft)
    units = sorted(unit for unit in naming if unit in groups and unit != root_id)
    rng.shuffle(units)
    ahead = 0
    for unit in units:
        if ahead >= count:
            return
        registration = groups[unit][0]
        after = sorted(
            (d for d in naming[unit] if d.arrival > registration.arrival), key=lambda d: d.arrival
        )
        if not after:
            continue
        chosen = after[rng.randint(0, min(6, len(after)) - 1)]
        registration.arrival = chosen.arrival + rng.uniform(0.5, 600)
        ahead += sum(1 for d in after if d.arrival < registration.arrival)
        previous = registration.arrival
        for draft in groups[unit][1:]:
            draft.arrival = previous = max(draft.arrival, previous + 0.001)


def publish(
    drafts: list[Draft],
    shape: ProvinceShape,
    rng: random.Random,
    *,
    namespace: uuid.UUID,
    live: datetime,
    now: datetime,
    root_id: str,
) -> list[Record]:
    """Number, time and encode the drafts; add redeliveries and poison; order by arrival."""
    groups = _by_subject(drafts)
    _number(groups, rng)
    _arrive(groups, rng, live, now)
    _backdate(groups, rng, round(shape.backdated_rate * len(drafts)))
    _run_ahead(drafts, groups, rng, round(shape.reference_ahead_rate * len(drafts)), root_id)
    counters: dict[str, int] = defaultdict(int)
    timed: list[tuple[float, Record]] = []
    for draft in drafts:  # ids: a per-source counter, so two sources share some ids
        counters[draft.source] += 1
        event = new_event(
            source=draft.source,
            type_=draft.type,
            subject=draft.subject,
            time=draft.time,
            data=draft.data,
            event_id=str(uuid.uuid5(namespace, str(counters[draft.source]))),
            sequence=draft.sequence,
        )
        binary = rng.random() < shape.binary_mode_rate
        value, headers = encode_binary(event) if binary else encode_structured(event)
        record = Record(
            EVENT_TYPES[draft.type].topic, draft.subject.encode(), value, headers, None, event
        )
        timed.append((draft.arrival, record))
    for index in rng.sample(
        range(len(drafts)), min(len(drafts), round(shape.duplicate_rate * len(drafts)))
    ):
        arrival, record = timed[index]
        delay = rng.uniform(1, 600) if rng.random() < 0.5 else rng.uniform(3600, 20 * DAY)
        timed.append((arrival + delay, record))
    first = min(arrival for arrival, _ in timed)
    last = max(arrival for arrival, _ in timed)
    units = sorted({d.subject for d in drafts if d.type == "hr.unit.registered"})
    people = sorted({d.subject for d in drafts if d.type == "hr.person.registered"})
    ingredients = Ingredients(rng, namespace, units, people, live, now - timedelta(days=1))
    for record in poison_records(ingredients, round(shape.poison_rate * len(drafts))):
        timed.append((rng.uniform(first, last), record))
    order = sorted(range(len(timed)), key=lambda n: (timed[n][0], n))
    return [timed[n][1] for n in order]
