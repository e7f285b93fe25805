"""The inspection events of the generated province as Kafka records: sequence numbers,
arrival times with the contract's disorder (a plan arriving after its next event, other
late events, redeliveries, decisions published before they take effect), poison, both
bindings; and their interleaving with the HR records."""

from __future__ import annotations

import bisect
import json
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from shared.contract import INSPECTIONS_TOPIC
from shared.envelope import PUBLISHED_CONTENT_TYPE, encode_binary, encode_structured, new_event
from tests.generator.model import ProvinceShape, Record
from tests.generator.state import Draft

SOURCE = "inspections/lang-son"  # the provincial inspectorate's system (Thanh tra tỉnh)
DAY = 86400.0


def poison_records(rng: random.Random, namespace: uuid.UUID, at: datetime) -> list[Record]:
    def envelope(n: int, type_: str, data: dict[str, Any]) -> bytes:
        body = {
            "specversion": "1.0",
            "id": str(uuid.uuid5(namespace, f"inspection-poison/{n}")),
            "source": SOURCE,
            "type": type_,
            "subject": "TT-X-001",
            "time": at.isoformat(),
            "data": data,
        }
        return json.dumps(body, ensure_ascii=False).encode()

    headers = [("content-type", PUBLISHED_CONTENT_TYPE.encode())]
    finding = {
        "finding_id": "F1",
        "unit_id": "U-0002",
        "severity": "nghiêm trọng",
        "topic": "planning",
        "summary": "x",
    }
    backwards = {
        "inspection_id": "TT-X-001",
        "title": "x",
        "kind": "inspection",
        "scope": ["planning"],
        "unit_ids": ["U-0002"],
        "lead_unit_id": "U-0001",
        "inter_sectoral": False,
        "planned_start": "2025-05-01",
        "planned_end": "2025-04-01",
    }
    made = [
        (b"\x00 not json {", "invalid_json"),
        (envelope(1, "inspection.finding_recorded", finding), "invalid_data"),
        (envelope(2, "inspection.planned", backwards), "invalid_data"),
        (envelope(3, "inspection.postponed", {"reason": "x"}), "unknown_type"),
    ]
    return [Record(INSPECTIONS_TOPIC, b"TT-X-001", v, list(headers), k, None) for v, k in made]


def disorder(
    drafts: list[Draft],
    rng: random.Random,
    shape: ProvinceShape,
    namespace: uuid.UUID,
    now: datetime,
) -> list[tuple[float, Record]]:
    """The records of the drafts (sequence numbered per inspection), with arrival times."""
    by_subject: dict[str, list[Draft]] = {}
    for draft in sorted(drafts, key=lambda d: (d.time, d.order)):
        by_subject.setdefault(draft.subject, []).append(draft)
    horizon = now + timedelta(days=120)  # decisions already taken, published before now
    kept = [d for group in by_subject.values() for d in group if d.time <= horizon]
    for group in by_subject.values():
        previous = float("-inf")
        for index, draft in enumerate(group, start=1):
            draft.sequence = index
            lag = min(rng.expovariate(2 / DAY), 10 * DAY)
            arrival = draft.time.timestamp() + lag if draft.time <= now else now.timestamp()
            draft.arrival = previous = max(
                arrival - rng.uniform(0, 10 * DAY) * (draft.time > now), previous + 0.001
            )
    groups = [g for g in by_subject.values() if len(g) > 2]
    chosen = rng.sample(groups, min(len(groups), max(2, round(0.15 * len(groups)))))
    for number, group in enumerate(chosen):
        if number == 0 or rng.random() < 0.5:  # the plan arrives after its next event
            group[0].arrival = group[1].arrival + rng.uniform(60, 2 * DAY)
        else:  # one event arrives after a later one
            index = rng.randrange(1, len(group) - 1)
            group[index].arrival = group[index + 1].arrival + rng.uniform(60, 3 * DAY)
    timed: list[tuple[float, Record]] = []
    for number, draft in enumerate(sorted(kept, key=lambda d: d.order), start=1):
        event = new_event(
            source=SOURCE,
            type_=draft.type,
            subject=draft.subject,
            time=draft.time,
            data=draft.data,
            event_id=str(uuid.uuid5(namespace, str(number))),
            sequence=draft.sequence,
        )
        binary = rng.random() < shape.binary_mode_rate
        value, headers = encode_binary(event) if binary else encode_structured(event)
        record = Record(INSPECTIONS_TOPIC, draft.subject.encode(), value, headers, None, event)
        timed.append((draft.arrival, record))
    for index in rng.sample(range(len(timed)), max(2, round(0.03 * len(timed)))):
        arrival, record = timed[index]
        timed.append((arrival + rng.uniform(60, 20 * DAY), record))
    if shape.poison_rate > 0:
        first, last = min(a for a, _ in timed), min(max(a for a, _ in timed), now.timestamp())
        for record in poison_records(rng, namespace, now - timedelta(days=3)):
            timed.append((rng.uniform(first, last), record))
    return timed


def merge_by_arrival(
    records: list[Record], inspections: list[tuple[float, Record]]
) -> list[Record]:
    """Interleave the inspection records into the HR records (in arrival order), placing
    each before the first HR record whose effective time is later than its arrival."""
    proxies: list[float] = []
    latest = float("-inf")
    for record in records:
        if record.event is not None:
            latest = max(latest, record.event.time.timestamp())
        proxies.append(latest)
    merged: list[tuple[int, int, float, int, Record]] = [
        (i, 1, 0.0, 0, r) for i, r in enumerate(records)
    ]
    for n, (arrival, record) in enumerate(inspections):
        merged.append((bisect.bisect_right(proxies, arrival), 0, arrival, n, record))
    merged.sort(key=lambda m: m[:4])
    return [m[4] for m in merged]
