"""bench.freshness.pooled: several freshness runs read as one, each run's p50 kept."""

from __future__ import annotations

from bench.freshness import Freshness, pooled


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
