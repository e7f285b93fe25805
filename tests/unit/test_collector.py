"""The services' processes run CPython's cyclic collector less often (shared/service.py)."""

import gc
from collections.abc import Iterator

import pytest

from shared.service import COLLECTOR_THRESHOLDS, tune_collector


@pytest.fixture
def thresholds_restored() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("thresholds_restored")
def test_the_collector_waits_for_many_more_allocations_than_by_default() -> None:
    gc.set_threshold(700, 10, 10)
    tune_collector()
    assert gc.get_threshold() == COLLECTOR_THRESHOLDS
    assert COLLECTOR_THRESHOLDS[0] >= 10_000
