"""What a reload takes from the people topic (services/indicators/people.py): the newest
revision of each person, whatever the order of the records; anything else is counted."""

from __future__ import annotations

from services.indicators.people import NewestPeople
from tests.facts import person, record_value, unit


def test_the_newest_revision_of_each_person_wins_in_any_order() -> None:
    w1_head = person("W1", revision=3, home="D1", positions=(("D1", "head"),))
    w1_left = person("W1", revision=2, home="D1", left=True)
    m1 = person("M1", revision=1, gender="male", home="D2")
    newest = NewestPeople()
    newest.take(
        [
            record_value(w1_head),
            record_value(m1),
            record_value(w1_left),  # an older revision published later
            record_value(m1),  # a duplicate
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
            record_value(unit("D1")),
            record_value(person("W1")),
        ]
    )
    assert list(newest.people) == ["W1"]
    assert newest.unreadable == 3
