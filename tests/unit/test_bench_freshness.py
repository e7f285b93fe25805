"""bench.freshness.pooled: several freshness runs read as one, each run's p50 kept; and
bench.probe.latest_appointments: each unit's count from its record at the highest offset;
bench.freshness.as_of_today: the people the deployed runs may appoint."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from bench.freshness import Freshness, appointments, as_of_today, pooled
from bench.probe import APPOINTMENTS, latest_appointments
from shared.envelope import new_event
from tests.generator.model import Province, Record
from tests.generator.state import Snapshot


def run(latencies: list[float], rate: float, missing: int = 0) -> Freshness:
    return Freshness(
        sent=len(latencies) + missing,
        rate=rate,
        published_ms=latencies,
        seen_ms=[v + 1 for v in latencies],
        missing=missing,
        personnel_ms=[v / 2 for v in latencies],
        indicators_ms=[v / 2 for v in latencies],
    )


def test_runs_are_pooled_and_each_p50_is_kept() -> None:
    fast, slow = run([10, 20, 30], rate=500), run([100, 200, 300], rate=520, missing=1)
    both = pooled([fast, slow])
    assert (both.sent, both.missing) == (7, 1)
    assert both.rate == 510
    assert sorted(both.published_ms) == [10, 20, 30, 100, 200, 300]
    assert len(both.seen_ms) == len(both.personnel_ms) == len(both.indicators_ms) == 6
    assert both.run_p50s == [20, 200]
    assert both.percentile(both.published_ms, 0.5) == 30


def feed(offset: int, unit_id: str, version: int, appointments: int) -> SimpleNamespace:
    """A feed record as read from Kafka, with what latest_appointments reads of it."""
    indicators = {APPOINTMENTS: {"denominator": appointments}}
    data = {"unit_id": unit_id, "version": version, "indicators": indicators}
    return SimpleNamespace(offset=offset, timestamp=0, value=json.dumps({"data": data}))


def test_the_latest_record_of_a_unit_is_the_one_at_the_highest_offset() -> None:
    # an end-to-end run reached version 9 with 5 appointments; the rebuild after it
    # published the unit again from version 1, and a freshness event since made it 6
    records = [feed(0, "D1", 8, 4), feed(1, "D1", 9, 5), feed(2, "D2", 3, 1)]
    records += [feed(3, "D1", 1, 5), feed(4, "D1", 2, 6)]
    assert latest_appointments(records) == {"D1": 6, "D2": 1}
    assert latest_appointments(list(reversed(records))) == {"D1": 6, "D2": 1}


def test_people_changed_after_the_provinces_now_are_not_appointed_as_of_today() -> None:
    now = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)

    def record(subject: str, type_: str, at: datetime) -> Record:
        event = new_event(source="hrms/test", type_=type_, subject=subject, time=at, data={})
        return Record("hr.personnel.v1", subject.encode(), b"", [], None, event)

    snapshot = Snapshot(
        units={"U1": (None, "agency"), "U2": ("U1", "division"), "U3": ("U1", "division")},
        people={"P1": "U2", "P2": "U2", "P3": "U3", "P4": "U2"},
        positions=frozenset(),
        planning=frozenset(),
    )
    records = [
        record("P1", "hr.person.updated", now - timedelta(days=3)),  # before: kept
        record("P2", "hr.person.left", now + timedelta(days=2)),  # left since
        record("U3", "hr.unit.dissolved", now + timedelta(days=1)),  # P3's home, since
        record("P4", "hr.person.updated", now),  # at now: in the snapshot already
    ]
    today = as_of_today(snapshot, Province(records, now, "U1"))
    assert today.people == {"P1": "U2", "P4": "U2"}
    assert today.units == snapshot.units
    assert {a.event.subject for a in appointments(today, 4, now)} == {"P1", "P4"}
