"""Consumer lag arithmetic (shared.lag), without Kafka."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.lag import PartitionOffsets, partition_lag, topic_lag


def test_lag_is_the_records_after_the_committed_offset() -> None:
    assert partition_lag(PartitionOffsets(log_start=0, end=10, committed=4)) == 6
    assert partition_lag(PartitionOffsets(log_start=0, end=10, committed=10)) == 0


def test_without_a_commit_the_whole_retained_log_counts() -> None:
    assert partition_lag(PartitionOffsets(log_start=3, end=10, committed=None)) == 7


def test_a_commit_before_the_log_start_counts_only_what_is_retained() -> None:
    # records deleted by retention cannot be consumed any more: they are no lag
    assert partition_lag(PartitionOffsets(log_start=8, end=10, committed=2)) == 2


def test_topic_lag_sums_the_partitions() -> None:
    partitions = [
        PartitionOffsets(log_start=0, end=5, committed=2),
        PartitionOffsets(log_start=0, end=7, committed=None),
        PartitionOffsets(log_start=0, end=0, committed=None),
    ]
    assert topic_lag(partitions) == 3 + 7 + 0


@given(
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=10**6),
    st.one_of(st.none(), st.integers(min_value=0, max_value=2 * 10**6)),
)
def test_lag_is_never_negative_nor_more_than_the_retained_log(
    log_start: int, retained: int, committed: int | None
) -> None:
    lag = partition_lag(
        PartitionOffsets(log_start=log_start, end=log_start + retained, committed=committed)
    )
    assert 0 <= lag <= retained
