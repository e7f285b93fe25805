"""The personnel service's bounded copy of recent people (services/personnel/recent.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import bson

from services.personnel.recent import RecentPeople
from shared.documents import Stored, Write
from shared.history import HistoryEntry


def written(subject: str, rev: int = 1) -> Write:
    """The write that leaves the person at ``rev``."""
    return Write(subject=subject, expected_rev=rev - 1, fields={"gender": "female"}, history=[])


def test_the_least_recently_used_person_goes_first() -> None:
    recent = RecentPeople(2)
    recent.keep([written("P1"), written("P2")])
    assert set(recent.get(["P1"])) == {"P1"}  # P1 used: P2 is now the oldest
    recent.keep([written("P3")])
    assert set(recent.get(["P1", "P2", "P3"])) == {"P1", "P3"}
    assert len(recent) == 2


def test_a_person_kept_again_replaces_the_older_copy_and_a_dropped_one_is_gone() -> None:
    recent = RecentPeople(10)
    recent.keep([written("P1", rev=1)])
    recent.keep([written("P1", rev=2)])
    assert recent.get(["P1"])["P1"].rev == 2
    recent.drop(["P1", "P9"])
    assert recent.get(["P1"]) == {}


def test_size_zero_keeps_nothing() -> None:
    recent = RecentPeople(0)
    recent.keep([written("P1")])
    assert recent.get(["P1"]) == {}


def test_while_paused_nobody_is_kept_and_afterwards_they_are_again() -> None:
    recent = RecentPeople(10)
    recent.keep([written("P0"), written("P3")])
    with recent.paused():
        recent.keep([written("P1"), written("P3")])  # P3's copy would be stale: dropped
    assert recent.get(["P1", "P3"]) == {}
    assert set(recent.get(["P0"])) == {"P0"}
    recent.keep([written("P2")])
    assert set(recent.get(["P2"])) == {"P2"}


def test_a_person_comes_back_as_a_read_of_the_document_written_would_return_them() -> None:
    entry = HistoryEntry(
        key="evt-1",
        type="hr.position.appointed",
        time=datetime(2026, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=7))),
        sequence=None,
        arrival=0,
        data={"unit_id": "D1", "role": "head"},
    )
    fields = {"gender": "female", "positions": [{"unit_id": "D1", "role": "head"}], "left": None}
    recent = RecentPeople(10)
    recent.keep([Write(subject="P1", expected_rev=2, fields=fields, history=[entry])])
    assert recent.get(["P1"])["P1"] == Stored(subject="P1", rev=3, history=[entry], fields=fields)


def test_a_person_is_kept_compressed() -> None:
    entries = [
        HistoryEntry(
            key=f"evt-{k}",
            type="hr.training.completed",
            time=datetime(2026, 3, 1, 8, k % 60, tzinfo=UTC),
            sequence=None,
            arrival=k,
            data={"unit_id": "D1", "category": "leadership", "course": "Bồi dưỡng lãnh đạo"},
        )
        for k in range(12)
    ]
    write = Write(subject="P1", expected_rev=0, fields={"gender": "female"}, history=entries)
    recent = RecentPeople(10)
    recent.keep([write])
    assert 0 < recent.kept_bytes() < len(bson.encode(write.document)) / 2
    assert recent.get(["P1"])["P1"].history == entries
