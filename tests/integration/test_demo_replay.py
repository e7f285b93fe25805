"""``parity demo`` replays the demo province's years through the services.

The checked-in demo file goes through the personnel, inspection and indicator services with
the clock at the end of each year (services/kit/replay.py), on the private broker of
test_report.py. The report as of a day in 2026 then has one trend point per year from 2021,
and the history's figures at each year's end equal the independent recomputation of the
events up to then (tests/reference.py, tests/reference_inspections.py): the trend comes from
the events' effective times, nothing is made up. Run with ``-s`` to see the figure list.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from rich.console import Console

from services.indicators.app import IndicatorsSettings
from services.inspections.app import InspectionsSettings
from services.kit.commands.demo import DEMO_FILE, DEMO_PLAN, checked_records
from services.kit.commands.publish import Tally
from services.kit.console import EXIT_OK, Output
from services.kit.producing import KafkaSender
from services.kit.replay import Services, effective_time, replay, stages, year_end
from services.reporting.annual import AnnualReport, build_report
from services.reporting.history import end_of_day, snapshot
from services.reporting.runs import find_plan, read_history
from services.reporting.settings import ReportingSettings
from shared.clock import VIETNAM
from shared.envelope import CloudEvent
from shared.settings import KafkaSettings
from shared.store import make_mongo_client
from tests import reference, reference_inspections
from tests.integration.conftest import personnel_settings
from tests.integration.test_report import kafka_settings, run_cli

__all__ = ["kafka_settings"]  # the private broker fixture of test_report.py

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=VIETNAM)
YEARS = (2021, 2022, 2023, 2024, 2025, 2026)
PLANS = Path(__file__).resolve().parents[2] / "deploy" / "plans"


def demo_events() -> list[CloudEvent]:
    lines = DEMO_FILE.read_bytes().splitlines()
    return [CloudEvent.model_validate_json(line) for line in lines if line.strip()]


def recomputed(
    events: list[CloudEvent], now: datetime
) -> dict[str, dict[str, tuple[int, int | None]]]:
    taken = [e for e in events if e.time <= now]
    world = reference.replay(taken, now)
    expected = reference.indicators(world, now)
    for unit_id, figures in reference_inspections.indicators(taken, now, world).items():
        expected[unit_id].update(figures)
    return expected


@pytest.fixture(scope="module")
async def replayed(kafka_settings: KafkaSettings, mongodb_url: str) -> AsyncIterator[str]:
    """The demo replayed; yields the database prefix (``<name>_indicators`` ...)."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    common = {"mongodb_url": mongodb_url, "kafka": kafka_settings, "sweep_interval_seconds": 0.2}
    services = Services(
        personnel_settings(kafka_settings, mongodb_url, name),
        InspectionsSettings(
            mongodb_database=f"{name}_inspections",
            group_id=f"test-inspections-{uuid.uuid4().hex[:8]}",
            **common,  # type: ignore[arg-type]
        ),
        IndicatorsSettings(
            mongodb_database=f"{name}_indicators",
            group_id=f"test-indicators-{uuid.uuid4().hex[:8]}",
            plans_dir=PLANS,
            **common,  # type: ignore[arg-type]
        ),
    )
    output = Output(out=Console(file=None, quiet=True), err=Console(file=None, quiet=True))
    tally = Tally()
    records = checked_records(DEMO_FILE, output=output, tally=tally)
    assert not tally.rejected
    plan = stages(((effective_time(r), r) for r in records), NOW)
    assert [s.clock for s in plan] == [*(year_end(y) for y in YEARS[:-1]), NOW]
    mongo = make_mongo_client(mongodb_url, app_name="tests")
    try:
        async with KafkaSender(kafka_settings) as sender:
            await replay(plan, services=services, sender=sender, on_stage=lambda _: None)
        yield name
    finally:
        for suffix in ("", "_inspections", "_indicators"):
            await mongo.drop_database(f"{name}{suffix}")
        await mongo.close()


def read_html(folder: Path) -> str:
    return next(folder.glob("*.html")).read_text(encoding="utf-8")


async def demo_report(database: str, mongodb_url: str, as_of: date) -> AnnualReport:
    settings = ReportingSettings(
        mongodb_url=SecretStr(mongodb_url),
        indicators_database=f"{database}_indicators",
        inspections_database=f"{database}_inspections",
        plans_dir=PLANS,
    )
    records, recommendations = await read_history(settings, as_of, with_recommendations=True)
    plan = find_plan(settings, DEMO_PLAN)
    return build_report(plan, as_of, records, recommendations=recommendations)


async def test_the_replayed_demo_has_a_trend_point_per_year_from_its_events(
    replayed: str, mongodb_url: str
) -> None:
    report = await demo_report(replayed, mongodb_url, NOW.date())
    assert report.years == YEARS
    assert report.targets
    for row in report.targets:
        trend = report.trends[(row.scope_id, row.indicator)]
        assert len(trend) == len(YEARS)
        assert all(value is not None for value in trend), (row.indicator, trend)
    moving = [
        key for key, trend in report.trends.items() if len({v for v in trend if v is not None}) > 1
    ]
    assert moving, "every indicator stood still over five years of events"

    settings = ReportingSettings(
        mongodb_url=SecretStr(mongodb_url), indicators_database=f"{replayed}_indicators"
    )
    records, _ = await read_history(settings, NOW.date(), with_recommendations=False)
    events = demo_events()
    for year in YEARS[:-1]:
        stood = snapshot(records, end_of_day(date(year, 12, 31)))
        expected = recomputed(events, year_end(year))
        compared = ["U-0001", *(u for u, s in stood.items() if s.level == "division")]
        assert len(compared) > 10
        for unit_id in compared:
            got = {i: (f.numerator, f.denominator) for i, f in stood[unit_id].indicators.items()}
            assert got == expected[unit_id], (year, unit_id)


async def test_the_demo_report_prints_its_figures(
    replayed: str, mongodb_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARITY_MONGODB_URL", mongodb_url)
    code, out, err = await asyncio.to_thread(
        run_cli,
        [
            "report",
            "--plan",
            DEMO_PLAN,
            "--as-of",
            NOW.date().isoformat(),
            "--out",
            str(tmp_path),
            "--database",
            f"{replayed}_indicators",
            "--inspections-database",
            f"{replayed}_inspections",
            "--plans-dir",
            str(PLANS),
        ],
    )
    assert code == EXIT_OK, err
    print(out)
    html = read_html(tmp_path)
    lines = [points.split() for points in re.findall(r"<polyline points='([^']*)'", html)]
    assert lines
    assert any(len(points) == len(YEARS) for points in lines)
    for year in YEARS[:-1]:  # the last label is the as-of date ("đến 21/11/2026")
        assert f">{year}<" in html
