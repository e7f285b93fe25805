"""What a reload takes from the people topic (services/indicators/people.py): the newest
revision of each person, whatever the order of the records; anything else is counted."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from services.indicators.people import NewestPeople
from shared.envelope import encode_structured, new_event
from shared.internal import PERSON_CHANGED, UNIT_CHANGED
from tests.facts import person, unit

NOW = datetime(2026, 11, 21, 2, 30, tzinfo=UTC)


def record(type_: str, subject: str, change: BaseModel) -> bytes:
    event = new_event(
        source="test", type_=type_, subject=subject, time=NOW, data=change.model_dump()
    )
    value, _ = encode_structured(event)
    return value


def test_the_newest_revision_of_each_person_wins_in_any_order() -> None:
    w1_head = person("W1", revision=3, home="D1", positions=(("D1", "head"),))
    w1_left = person("W1", revision=2, home="D1", left=True)
    m1 = person("M1", revision=1, gender="male", home="D2")
    newest = NewestPeople()
    newest.take(
        [
            record(PERSON_CHANGED, "W1", w1_head),
            record(PERSON_CHANGED, "M1", m1),
            record(PERSON_CHANGED, "W1", w1_left),  # an older revision published later
            record(PERSON_CHANGED, "M1", m1),  # a duplicate
        ]
    )
    assert {p.person_id: p.revision for p in newest.people.values()} == {"W1": 3, "M1": 1}
    assert newest.people["W1"].positions == (("D1", "head"),)
    assert newest.people["W1"].on_staff
    assert newest.unreadable == 0


def test_records_that_are_not_people_changes_are_counted_and_skipped() -> None:
    newest = NewestPeople()
    newest.take(
        [
            b"{not json",
            None,
            record(UNIT_CHANGED, "D1", unit("D1")),
            record(PERSON_CHANGED, "W1", person("W1")),
        ]
    )
    assert list(newest.people) == ["W1"]
    assert newest.unreadable == 3
