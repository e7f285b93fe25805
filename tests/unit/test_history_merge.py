"""shared.history: merging events into a history, and which of them were applied."""

from __future__ import annotations

import dataclasses

from shared.history import applied_of, merge_into_history
from tests.unit.test_person_fold import registered


def test_two_equal_copies_in_one_batch_are_one_applied_event_and_one_duplicate() -> None:
    first = registered()
    copy = dataclasses.replace(first)  # equal, and another object: a redelivery in the batch
    assert copy == first
    history, duplicates = merge_into_history([], [first, copy])
    assert len(history) == 1
    assert duplicates == [copy]
    assert applied_of([first, copy], duplicates) == [first]
    assert applied_of([first, copy], duplicates)[0] is first


def test_an_event_already_in_the_history_is_a_duplicate_and_not_applied() -> None:
    event = registered()
    history, _ = merge_into_history([], [event])
    again = dataclasses.replace(event)
    merged, duplicates = merge_into_history(history, [again])
    assert (len(merged), duplicates, applied_of([again], duplicates)) == (1, [again], [])
