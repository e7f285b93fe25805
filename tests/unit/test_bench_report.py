"""bench.report's rows that derive a figure: the bound that the writes per event set on the
end-to-end rate, and a freshness run at half the upsert ceiling."""

from __future__ import annotations

from bench.freshness import Freshness
from bench.profile import StoreBusy
from bench.report import at_half_the_ceiling, breakdown, deployed_rows
from bench.runs import Deployed, EndToEnd


def test_the_writes_per_event_bound_the_rate() -> None:
    run = EndToEnd(
        events=1000,
        seconds=4.0,
        store_busy_seconds=3.0,
        cpu_seconds={"parity": 2.0},
        store_commands={"update": (50, 2.5)},
        written={"personnel.people": 1500, "indicators.indicator_history": 600},
    )
    lines = breakdown(run, upsert=1680.0, ceiling=1600.0)
    # 2.10 writes an event at 1,680 writes/s: 800 events/s, 0.5 of the lower ceiling
    assert lines[-2].endswith("2.10 (personnel.people 1.50, indicators.indicator_history 0.60)")
    assert lines[-1].startswith("- so at most 800 events/s, 0.500 of the lower ceiling:")


def test_a_run_that_wrote_nothing_states_no_bound() -> None:
    run = EndToEnd(1000, 4.0, 3.0, {}, {}, {})
    assert not any(line.startswith("- so at most") for line in breakdown(run, 1680.0, 1600.0))


def run_at(rate: float, latencies: list[float]) -> Freshness:
    return Freshness(len(latencies), rate, latencies, latencies, 0)


def test_half_the_ceiling_says_when_the_events_queue_and_judges_the_target() -> None:
    queued = at_half_the_ceiling(run_at(826.0, [800.0, 900.0]), "rebuild's", 471.8, "as deployed ")
    assert "the same as deployed at half the upsert ceiling" in queued
    assert "at 826.0/s, above the rebuild's rate: they queue" in queued
    assert queued.endswith("| 800 / 900 ms | ≤ 100 / 500 ms | **missed** |")
    kept_up = at_half_the_ceiling(run_at(300.0, [40.0, 90.0]), "end-to-end", 576.3)
    assert "the same at half the upsert ceiling" in kept_up
    assert "queue" not in kept_up
    assert kept_up.endswith("| 40 / 90 ms | ≤ 100 / 500 ms | met |")


def test_reads_are_told_by_collection_per_thousand_events() -> None:
    run = EndToEnd(
        2000,
        4.0,
        3.0,
        {},
        {"find": (10, 1.0)},
        {},
        read_seconds={"personnel.people": 0.8, "indicators.people": 0.2},
    )
    reads = [line for line in breakdown(run, 1680.0, 1600.0) if line.startswith("- reads")]
    assert reads == [
        "- reads (find, getMore, aggregate, count) by time in flight, per 1,000 events:"
        " personnel.people 0.40 s, indicators.people 0.10 s"
    ]


class Command:
    """The attributes of a PyMongo command event that StoreBusy reads."""

    def __init__(self, name: str, command: dict[str, object], request_id: int) -> None:
        self.command_name = name
        self.command = {name: command.get(name), **command}
        self.database_name = "bench_personnel"
        self.request_id = request_id
        self.operation_id = request_id
        self.connection_id = ("127.0.0.1", 27017)


def test_store_busy_sums_reads_by_collection_and_counts_writes() -> None:
    busy = StoreBusy()
    busy.start()
    commands = [
        Command("find", {"find": "people"}, 1),
        Command("getMore", {"getMore": 7, "collection": "people"}, 2),
        Command("find", {"find": "units"}, 3),
        Command("update", {"update": "people", "updates": [{}, {}]}, 4),
    ]
    for command in commands:
        busy.started(command)  # type: ignore[arg-type]
    for command in commands:
        busy.succeeded(command)  # type: ignore[arg-type]
    busy.stop()
    assert set(busy.read_seconds) == {"personnel.people", "personnel.units"}
    assert busy.commands == {"find": 2, "getMore": 1, "update": 1}
    assert busy.written == {"personnel.people": 2}


def test_the_end_to_end_as_deployed_is_judged_against_the_same_ceiling() -> None:
    rate, ratio = deployed_rows(Deployed(16000, 20.0, {}), ceiling=1600.0)
    assert "| 800.0 events/s (16000 in 20.0 s) |" in rate
    assert ratio == "| 2 | as deployed ÷ lower ceiling (1,600/s) | 0.500 | ≥ 0.5 | met |"
    _, slower = deployed_rows(Deployed(16000, 21.0, {}), ceiling=1600.0)
    assert slower.endswith("| 0.476 | ≥ 0.5 | **missed** |")
