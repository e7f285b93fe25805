"""A wait that doubles with each failure in a row, up to a ceiling (pure): the notification
outbox's retries (``RetryPolicy``) and a failing subscriber's pause (shared/failing.py)."""

from __future__ import annotations

# 2.0 ** 1000 times any sane first wait is still a finite float, far past any ceiling
LARGEST_EXPONENT = 1000


def doubling_wait(failures_in_a_row: int, *, first: float, longest: float) -> float:
    """The wait in seconds after the ``failures_in_a_row``-th failure (from 1):
    ``first`` · 2^(n-1), at most ``longest``. Computed in floats: no overflow however many
    failures there were."""
    exponent = min(max(0, failures_in_a_row - 1), LARGEST_EXPONENT)
    return min(longest, first * 2.0**exponent)
