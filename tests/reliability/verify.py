"""After a faulty run: what the services hold and published, against the province's events.

Nothing lost, nothing doubled, looked at three ways:
- the feed: every unit's latest record carries the fifteen indicators the independent
  recomputation gives; per unit, versions run 1, 2, 3... and a version published twice
  (a re-send after a crash) carries the same figures both times; the indicator service's
  stored status is the latest record published;
- the projections: every valid inbound event is in its subject's stored history exactly
  once (personnel: units and people; inspections: inspections), and nothing else is; and,
  to tell where a difference comes from, the same revision of each person in personnel's
  store and on the people topic, of each unit in personnel's and the indicator service's
  stores, and of each unit's inspection status in the inspection service's store, on the
  status topic and in the indicator service's store;
- the dead letters: every poison record is on its topic's DLQ with the reason
  ``decode_record`` gives for it, nothing valid is, and the internal DLQs are empty.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from pymongo import AsyncMongoClient

from services.indicators.people import NewestPeople
from services.indicators.store import IndicatorsStore
from shared.contract import (
    EVENT_TYPES,
    INBOUND_TOPICS,
    INDICATORS_TOPIC,
    INSPECTIONS_TOPIC,
    UNITS_TOPIC,
    dead_letter_topic,
)
from shared.documents import history_documents
from shared.envelope import PoisonRecord, decode_record, one_line
from shared.internal import (
    INSPECTION_STATUS_TOPIC,
    PEOPLE_CHANGES_TOPIC,
    UnitInspectionStatus,
    decode_change,
)
from shared.outbound import INDICATOR_IDS
from shared.settings import KafkaSettings
from shared.store import Document
from shared.topics import internal_topics
from tests import reference
from tests.generator import Province, Record
from tests.integration.kafka_tools import read_to_end
from tests.reliability.services import Names
from tests.reliability.stream import Stream

Figures = dict[str, tuple[int, int | None]]


@dataclass
class Findings:
    """Every discrepancy found, by kind; empty lists everywhere means a clean run."""

    indicators: dict[str, dict[str, Any]] = field(default_factory=dict)
    feed: list[str] = field(default_factory=list)
    histories: list[str] = field(default_factory=list)
    dead_letters: list[str] = field(default_factory=list)
    projections: list[str] = field(default_factory=list)
    feed_records: int = 0
    dead_letter_records: int = 0

    @property
    def clean(self) -> bool:
        return not (
            self.indicators or self.feed or self.histories or self.dead_letters or self.projections
        )


def figures(data: dict[str, Any]) -> Figures:
    return {
        name: (data["indicators"][name]["numerator"], data["indicators"][name]["denominator"])
        for name in INDICATOR_IDS
    }


async def check_feed(
    kafka: KafkaSettings, mongo: AsyncMongoClient[Document], names: Names, stream: Stream
) -> Findings:
    found = Findings()
    records = [json.loads(r.value)["data"] for r in await read_to_end(kafka, INDICATORS_TOPIC)]
    found.feed_records = len(records)
    by_unit: dict[str, dict[int, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for data in records:
        by_unit[data["unit_id"]][data["version"]].append(data)
    latest = {u: versions[max(versions)][-1] for u, versions in by_unit.items()}
    for unit_id, versions in sorted(by_unit.items()):
        if sorted(versions) != list(range(1, max(versions) + 1)):
            found.feed.append(f"{unit_id}: versions {sorted(versions)} are not 1..n")
        for version, same in sorted(versions.items()):
            contents = {json.dumps(_content(d), sort_keys=True) for d in same}
            if len(contents) > 1:
                found.feed.append(f"{unit_id} v{version}: {len(contents)} different contents")
    active = {u for u, d in latest.items() if d["active"]}
    for unit_id in sorted(active | set(stream.expected)):
        if unit_id not in active or unit_id not in stream.expected:
            found.indicators[unit_id] = {"active_on_feed": unit_id in active}
            continue
        got, want = figures(latest[unit_id]), stream.expected[unit_id]
        wrong = {k: {"feed": got[k], "expected": want[k]} for k in got if got[k] != want[k]}
        if wrong:
            found.indicators[unit_id] = wrong
    inactive = {u for u, d in latest.items() if not d["active"]}
    if inactive != stream.closed:
        found.feed.append(f"inactive on the feed {sorted(inactive)} != closed {stream.closed}")
    store = IndicatorsStore(mongo[names.database("indicators")])
    known = set(latest) | set(stream.expected)
    stored = {u: p.version for u, p in (await store.load_published(known)).items()}
    published = {u: d["version"] for u, d in latest.items()}
    if stored != published:
        differ = {u: (stored.get(u), published.get(u)) for u in stored.keys() | published.keys()}
        found.feed.append(
            "stored status != latest published (stored, feed): "
            f"{ {u: v for u, v in differ.items() if v[0] != v[1]} }"
        )
    return found


def _content(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("as_of", "version")}


async def check_histories(
    mongo: AsyncMongoClient[Document], names: Names, province: Province, found: Findings
) -> None:
    """Every valid inbound event in its subject's stored history, once; nothing else there."""
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for event in province.events():
        topic = EVENT_TYPES[event.type].topic
        collection = {UNITS_TOPIC: "units", INSPECTIONS_TOPIC: "inspections"}.get(topic, "people")
        wanted[(collection, event.subject)].add(f"{event.source}\x1f{event.id}")
    stored: dict[tuple[str, str], Counter[str]] = {}
    for service, collections in (
        ("personnel", ("units", "people")),
        ("inspections", ("inspections",)),
    ):
        db = mongo[names.database(service)]
        for collection in collections:
            async for doc in db[collection].find({}, {"history": 1}):
                history = Counter(entry["key"] for entry in history_documents(doc.get("history")))
                stored[(collection, doc["_id"])] = history
    for subject, expected_keys in sorted(wanted.items()):
        counts = stored.get(subject, Counter())
        lost = expected_keys - set(counts)
        doubled = {k for k, n in counts.items() if n > 1}
        extra = set(counts) - expected_keys
        for what, which in (("lost", lost), ("doubled", doubled), ("unknown", extra)):
            if which:
                found.histories.append(f"{subject}: {len(which)} {what} ({sorted(which)[:3]})")
    for subject in sorted(set(stored) - set(wanted)):
        found.histories.append(f"{subject}: stored, but no valid event names it")


async def check_dead_letters(
    kafka: KafkaSettings, province: Province, found: Findings, *, exactly_once: bool
) -> None:
    """Each poison record on its DLQ with its reason (once when no fault could repeat it,
    at least once otherwise); nothing else on any DLQ."""
    for topic in INBOUND_TOPICS:
        poison = [r for r in province.records if r.topic == topic and r.poison is not None]
        reasons = {_identity(r.key, r.value, r.headers): _reason(r) for r in poison}
        seen: Counter[tuple[Any, ...]] = Counter()
        for dead in await read_to_end(kafka, dead_letter_topic(topic)):
            found.dead_letter_records += 1
            headers = [(k, v) for k, v in dead.headers if not k.startswith("parity_")]
            identity = _identity(dead.key, dead.value, headers)
            error = dict(dead.headers).get("parity_error", b"").decode()
            if identity not in reasons:
                found.dead_letters.append(f"{topic}.dlq holds a record that is not poison")
            elif error != reasons[identity]:
                found.dead_letters.append(f"{topic}.dlq reason {error!r} != {reasons[identity]!r}")
            seen[identity] += 1
        for identity, reason in reasons.items():
            if seen[identity] == 0 or (exactly_once and seen[identity] > 1):
                found.dead_letters.append(f"{topic}: poison ({reason}) {seen[identity]} times")
    for spec in internal_topics():
        if spec.name.endswith(".dlq") and (count := len(await read_to_end(kafka, spec.name))):
            found.dead_letters.append(f"{spec.name}: {count} records")


def _identity(key: bytes | None, value: bytes | None, headers: Any) -> tuple[Any, ...]:
    return key, value, tuple((k, bytes(v)) for k, v in headers)


def _reason(record: Record) -> str:
    try:
        decode_record(record.topic, record.value, record.headers)
    except PoisonRecord as poison:
        return one_line(str(poison))
    raise AssertionError(f"the generator's poison record decodes: {record.key!r}")


async def check_projections(
    kafka: KafkaSettings,
    mongo: AsyncMongoClient[Document],
    names: Names,
    province: Province,
    found: Findings,
) -> None:
    """Where a difference comes from: each person as personnel holds them against the
    recomputation; the newest revision of each person on the people topic (what the
    indicator service reloads) and the facts it holds of each unit against personnel's
    document (same revision; for people, same fields)."""
    world = reference.replay(province.events(), province.now)
    personnel = mongo[names.database("personnel")]["people"]
    stored = {d["_id"]: d async for d in personnel.find({}, {"history": 0})}
    for person_id, person in sorted(world.people.items()):
        doc = stored.get(person_id, {})
        want = (person.gender, person.home_unit_id, person.left)
        got = (doc.get("gender"), doc.get("home_unit_id"), doc.get("left_reason") is not None)
        if got != want:
            found.projections.append(f"personnel {person_id}: {got} != expected {want}")
    topic = NewestPeople()
    topic.take(r.value for r in await read_to_end(kafka, PEOPLE_CHANGES_TOPIC))
    if set(topic.people) != {p for p, d in stored.items() if d.get("rev")}:
        found.projections.append("the people topic and personnel name different people")
    for person_id, facts in sorted(topic.people.items()):
        doc = stored.get(person_id, {})
        on_staff = (
            bool(doc.get("registered"))
            and doc.get("left_reason") is None
            and doc.get("home_unit_id") is not None
        )
        if facts.revision != doc.get("rev"):
            found.projections.append(f"topic {person_id}: rev {facts.revision} != {doc.get('rev')}")
        elif (facts.home_unit_id, facts.on_staff) != (doc.get("home_unit_id"), on_staff):
            found.projections.append(f"topic {person_id}: facts differ at rev {facts.revision}")
    units = {
        d["_id"]: d["rev"]
        async for d in mongo[names.database("personnel")]["units"].find({}, {"rev": 1})
    }
    async for fact in mongo[names.database("indicators")]["units"].find({}, {"revision": 1}):
        if fact["revision"] != units.get(fact["_id"]):
            found.projections.append(
                f"indicators unit {fact['_id']}: rev {fact['revision']} != {units.get(fact['_id'])}"
            )
    await _check_inspection_statuses(kafka, mongo, names, found)


async def _check_inspection_statuses(
    kafka: KafkaSettings, mongo: AsyncMongoClient[Document], names: Names, found: Findings
) -> None:
    """Each unit's inspection status at the same revision in the inspection service's store,
    newest on the status topic, and held by the indicator service: where a status was lost."""
    inspections = mongo[names.database("inspections")]["unit_inspections"]
    stored = {d["_id"]: d["rev"] async for d in inspections.find({}, {"rev": 1})}
    published: dict[str, int] = {}
    for record in await read_to_end(kafka, INSPECTION_STATUS_TOPIC):
        change = decode_change(record.value)
        if isinstance(change, UnitInspectionStatus):
            published[change.unit_id] = max(change.revision, published.get(change.unit_id, 0))
    indicators = mongo[names.database("indicators")]["unit_inspections"]
    held = {d["_id"]: d["revision"] async for d in indicators.find({}, {"revision": 1})}
    for unit_id in sorted(stored.keys() | published.keys() | held.keys()):
        revisions = (stored.get(unit_id), published.get(unit_id), held.get(unit_id))
        if len(set(revisions)) > 1:
            found.projections.append(
                f"inspection status {unit_id}: rev {revisions[0]} stored by inspections,"
                f" {revisions[1]} newest on the topic, {revisions[2]} held by indicators"
            )
