"""The bulk catch-up's pure parts (services/personnel/catch_up.py): how a partition is split
into passes, and asking for a group's offsets while its coordinator is not ready."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import GroupAuthorizationFailedError, GroupCoordinatorNotAvailableError

from services.personnel.catch_up import asking_again, chunks, passes_for, taken_by


def record(key: bytes | None, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("hr.personnel.v1", 0, offset, 0, 0, key, b"{}", None, 0, 2, ())


@pytest.mark.parametrize(
    ("records", "at_most", "passes"),
    [(0, 100, 1), (1, 100, 1), (100, 100, 1), (101, 100, 2), (48_000, 20_000, 3)],
)
def test_a_partition_takes_as_many_passes_as_hold_at_most_the_limit(
    records: int, at_most: int, passes: int
) -> None:
    assert passes_for(records, at_most) == passes


def test_every_record_is_taken_by_one_pass_and_a_key_always_by_the_same() -> None:
    records = [record(f"person-{n % 40}".encode(), n) for n in range(400)]
    records.append(record(None, 400))
    passes = 3
    taken = [[r for r in records if taken_by(p, passes)(r)] for p in range(passes)]
    assert sorted(r.offset for batch in taken for r in batch) == list(range(401))
    for batch in taken:
        assert [r.offset for r in batch] == sorted(r.offset for r in batch)  # in order
    passes_of_key: dict[bytes | None, set[int]] = {}
    for p, batch in enumerate(taken):
        for r in batch:
            passes_of_key.setdefault(r.key, set()).add(p)
    assert all(len(found) == 1 for found in passes_of_key.values())
    assert all(taken), "40 keys spread over every pass"


def test_chunks_keep_the_order_and_the_limit() -> None:
    assert chunks(list(range(5)), 2) == [[0, 1], [2, 3], [4]]
    assert chunks([], 2) == []


class Admin:
    """Answers with the errors given, in turn, then with no offsets."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.asked = 0

    async def list_consumer_group_offsets(self, group: str) -> dict[TopicPartition, Any]:
        self.asked += 1
        if self.errors:
            raise self.errors.pop(0)
        return {}


async def test_a_coordinator_not_ready_yet_is_asked_again() -> None:
    admin = Admin(GroupCoordinatorNotAvailableError(), GroupCoordinatorNotAvailableError())
    assert await asking_again(lambda: admin.list_consumer_group_offsets("g"), "offsets") == {}
    assert admin.asked == 3


async def test_an_error_that_will_not_pass_is_raised_at_once() -> None:
    admin = Admin(GroupAuthorizationFailedError())
    with pytest.raises(GroupAuthorizationFailedError):
        await asking_again(lambda: admin.list_consumer_group_offsets("g"), "offsets")
    assert admin.asked == 1
