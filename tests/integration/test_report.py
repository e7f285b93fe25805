"""`parity report` and `parity export` over the history the real services wrote.

A small generated province goes through the personnel, inspections and indicators services
(real Kafka, real FerretDB, a manual clock) in two phases: the clock at D1 with the events
effective up to D1, settled; then the clock at D2 with the rest, settled. The report as of
D1's date must then equal the independent recomputation as of D1 (tests/reference.py and
tests/reference_inspections.py over the events up to D1), for the plan's scope unit and every
division, and differ from the D2 state exactly where the data changed.

The services run on a private Kafka broker started for this module (deploy/kafka.sh with its
own data folder and ports), so the test neither recreates the shared topics nor reads
anybody else's records from them.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from openpyxl import load_workbook
from rich.console import Console

from services.indicators.store import IndicatorsStore
from services.kit import cli
from services.kit.console import EXIT_OK, Output
from services.reporting.annex import FIGURES_SHEET
from shared.clock import VIETNAM, ManualClock
from shared.kafka import client_options
from shared.outbound import INDICATOR_IDS
from shared.settings import KafkaSettings
from shared.store import make_mongo_client
from tests import reference, reference_inspections
from tests.generator import ProvinceShape, Record, generate_province
from tests.integration.province_pipeline import running_pipeline
from tests.local_servers import deploy_script, free_ports

PLAN = "lang-son-dolisa-2022"
D1 = datetime(2025, 12, 31, 15, 0, tzinfo=VIETNAM)
D2 = datetime(2026, 11, 21, 9, 30, tzinfo=VIETNAM)  # the generator's now
SHAPE = ProvinceShape(
    agencies=2,
    years=2,
    divisions_per_agency=(2, 4),
    public_service_units_per_agency=(0, 1),
    people_per_unit=(3, 8),
)
PROVINCE = generate_province(11, SHAPE, now=D2)

Figures = dict[str, dict[str, tuple[int, int | None]]]  # unit → indicator → (num, den)


@pytest.fixture(scope="module")
def kafka_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaSettings]:
    """A private broker for this module (overrides the shared one of conftest.py)."""
    plaintext, controller = free_ports(2)
    env = {
        **os.environ,
        "DATA": str(tmp_path_factory.mktemp("report-kafka")),
        "KAFKA_PORT": str(plaintext),
        "KAFKA_CONTROLLER_PORT": str(controller),
        "KAFKA_HEAP_OPTS": "-Xms128m -Xmx512m",
    }
    deploy_script("kafka.sh", "up", env, timeout=180)
    try:
        yield KafkaSettings(bootstrap_servers=f"127.0.0.1:{plaintext}", partitions=3)
    finally:
        deploy_script("kafka.sh", "down", env, timeout=60)


def expected_figures(now: datetime) -> Figures:
    events = [e for e in PROVINCE.events() if e.time <= now]
    world = reference.replay(events, now)
    expected = reference.indicators(world, now)
    for unit_id, figures in reference_inspections.indicators(events, now, world).items():
        expected[unit_id].update(figures)
    return expected


@dataclass
class Settled:
    database: str  # prefix: <database>_indicators, <database>_inspections
    d1: Figures
    d2: Figures
    compared: list[str]  # the plan's scope unit and every division active at D1
    current: Figures  # the last records stored after D2 (the state of today)
    mongodb_url: str


async def produce(producer: AIOKafkaProducer, records: list[Record]) -> None:
    pending = [
        await producer.send(r.topic, value=r.value, key=r.key, headers=r.headers) for r in records
    ]
    await asyncio.gather(*pending)


@pytest.fixture(scope="module")
async def settled(kafka_settings: KafkaSettings, mongodb_url: str) -> AsyncIterator[Settled]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    clock = ManualClock(D1)
    early = [r for r in PROVINCE.records if r.event is None or r.event.time <= D1]
    late = [r for r in PROVINCE.records if r.event is not None and r.event.time > D1]
    producer = AIOKafkaProducer(max_request_size=4 * 1024 * 1024, **client_options(kafka_settings))
    mongo = make_mongo_client(mongodb_url, app_name="tests")
    await producer.start()
    try:
        async with running_pipeline(kafka_settings, mongodb_url, name, clock, mongo) as run:
            await produce(producer, early)
            await run.settle()
            clock.set(D2)
            await produce(producer, late)
            await run.settle()
            # the reports read the stores while the services stand idle at D2
            d2 = expected_figures(D2)
            store = IndicatorsStore(mongo[f"{name}_indicators"])
            published = await store.load_published(d2)
            current = {
                unit_id: {
                    k: (v["numerator"], v["denominator"])
                    for k, v in record.content["indicators"].items()
                }
                for unit_id, record in published.items()
                if record.content["active"]
            }
            world = reference.replay([e for e in PROVINCE.events() if e.time <= D1], D1)
            d1 = expected_figures(D1)
            divisions = sorted(u for u in d1 if world.units[u].level == "division")
            yield Settled(
                name,
                d1,
                d2,
                [PROVINCE.root_unit_id, *divisions],
                current,
                mongodb_url,
            )
    finally:
        await producer.stop()
        await mongo.drop_database(name)  # the pipeline dropped the other two
        await mongo.close()


def run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    output = Output(out=Console(file=out, width=200), err=Console(file=err, width=200))
    code = cli.main(["--no-progress", *args], output)
    return code, out.getvalue(), err.getvalue()


def annex_figures(path: Path) -> Figures:
    sheet = load_workbook(path, read_only=True)[FIGURES_SHEET]
    rows = sheet.iter_rows(min_row=2, values_only=True)
    found: Figures = {}
    for unit_id, _, _, _, indicator, _, numerator, denominator, *_ in rows:
        found.setdefault(str(unit_id), {})[str(indicator)] = (
            int(str(numerator)),
            None if denominator is None else int(str(denominator)),
        )
    return found


def read_report(folder: Path) -> tuple[str, Figures]:
    html = next(folder.glob("*.html")).read_text(encoding="utf-8")
    return html, annex_figures(next(folder.glob("*.xlsx")))


def read_export(folder: Path) -> list[dict[str, str]]:
    with next(folder.glob("*.csv")).open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


async def test_the_report_as_of_a_past_date_is_that_date_s_state(
    settled: Settled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARITY_MONGODB_URL", settled.mongodb_url)
    assert PROVINCE.root_unit_id == "U-0001"  # the plan's scope unit
    code, out, err = await asyncio.to_thread(
        run_cli,
        [
            "report",
            "--plan",
            PLAN,
            "--as-of",
            D1.date().isoformat(),
            "--out",
            str(tmp_path),
            "--database",
            f"{settled.database}_indicators",
            "--inspections-database",
            f"{settled.database}_inspections",
        ],
    )
    assert code == EXIT_OK, err
    html, reported = read_report(tmp_path)
    assert "<svg" in html
    assert "<script" not in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "Tỷ lệ phòng và tương đương có nữ lãnh đạo chủ chốt" in html
    assert "U-0001" in out

    got = {u: reported.get(u) for u in settled.compared}
    assert got == {u: settled.d1[u] for u in settled.compared}

    # Today's state (after D2) is the recomputation at D2, and it differs from the report
    # exactly where the data changed between D1 and D2.
    assert {u: settled.current.get(u) for u in settled.compared} == {
        u: settled.d2.get(u) for u in settled.compared
    }
    changed = {u for u in settled.compared if settled.d1[u] != settled.d2.get(u)}
    assert PROVINCE.root_unit_id in changed
    assert {u for u in settled.compared if got[u] != settled.current.get(u)} == changed


async def test_the_export_withholds_small_cells_of_the_stored_history(
    settled: Settled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARITY_MONGODB_URL", settled.mongodb_url)
    code, out, err = await asyncio.to_thread(
        run_cli,
        [
            "export",
            "--year",
            "2025",
            "--format",
            "csv",
            "--threshold",
            "5",
            "--out",
            str(tmp_path),
            "--database",
            f"{settled.database}_indicators",
        ],
    )
    assert code == EXIT_OK, err
    rows = read_export(tmp_path)
    assert {r["unit_id"] for r in rows} == set(settled.d1)
    assert len(rows) == len(settled.d1) * len(INDICATOR_IDS)
    withheld = 0
    for row in rows:
        numerator, denominator = settled.d1[row["unit_id"]][row["indicator"]]
        small = numerator < 5 or (denominator is not None and denominator < 5)
        assert (row["withheld"] == "true") == small, row
        if small:
            withheld += 1
            assert row["numerator"] == row["denominator"] == row["value"] == ""
        else:
            assert int(row["numerator"]) == numerator
            assert row["denominator"] == ("" if denominator is None else str(denominator))
    assert 0 < withheld < len(rows)
    assert f"withheld (below 5): {withheld}" in out
