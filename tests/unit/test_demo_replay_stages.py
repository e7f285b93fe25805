"""The demo replay's stages (services/kit/replay.py): one per year end, then now."""

from __future__ import annotations

from datetime import datetime

from services.kit.records import OutboundRecord
from services.kit.replay import stages, year_end
from shared.clock import VIETNAM

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=VIETNAM)


def record(name: str) -> OutboundRecord:
    return OutboundRecord("hr.personnel.v1", name.encode(), b"{}", (), "hr.person.registered")


def test_every_year_from_the_first_to_the_last_has_a_stage_and_the_rest_waits_for_now() -> None:
    events = [
        (datetime(2023, 5, 1, tzinfo=VIETNAM), record("c")),
        (datetime(2021, 1, 4, 8, tzinfo=VIETNAM), record("a")),
        (year_end(2021), record("b")),  # the last second of 2021 is still 2021
        (
            datetime(2021, 12, 31, 17, 30, tzinfo=VIETNAM).replace(
                hour=23, minute=59, second=59, microsecond=1
            ),
            record("d"),
        ),
        (datetime(2026, 3, 1, tzinfo=VIETNAM), record("e")),
        (datetime(2027, 1, 1, tzinfo=VIETNAM), record("f")),  # future: the services hold it
    ]
    found = stages(events, NOW)
    assert [s.clock for s in found] == [*(year_end(y) for y in range(2021, 2026)), NOW]
    assert [[r.key.decode() for r in s.records] for s in found] == [
        ["a", "b"],
        ["d"],  # after the 2021 stage's clock: produced once the clock has passed it
        ["c"],
        [],  # 2024 and 2025 without events: the services still see those years end
        [],
        ["e", "f"],
    ]


def test_no_events_is_one_stage_at_now() -> None:
    assert [(s.clock, s.records) for s in stages([], NOW)] == [(NOW, [])]


def test_a_year_of_events_that_has_not_ended_gets_no_stage_of_its_own() -> None:
    events = [(datetime(2026, 2, 1, tzinfo=VIETNAM), record("a"))]
    assert [s.clock for s in stages(events, NOW)] == [NOW]
