"""The pipeline under measurement: personnel, inspections and indicators, either in this
process (each service's ``build()`` with a ManualClock, as the end-to-end test runs them) or
as three processes (``python -m services.<name>``, configured by PARITY_* variables)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from bench.config import ROOT
from bench.probe import Groups
from services.indicators.app import IndicatorsSettings
from services.indicators.app import build as build_indicators
from services.inspections.app import InspectionsSettings
from services.inspections.app import build as build_inspections
from services.kit.replay import pipeline_groups
from services.personnel.app import PersonnelSettings
from services.personnel.app import build as build_personnel
from services.personnel.app import consumer_groups as personnel_groups
from shared.clock import ManualClock
from shared.plans import load_plans
from shared.service import tune_collector
from shared.settings import KafkaSettings
from shared.store import Document
from tests.generator import Record

PLANS = ROOT / "deploy" / "plans"
SERVICES = ("personnel", "inspections", "indicators")


@dataclass(frozen=True)
class Names:
    """Consumer groups and databases of one pipeline (fresh ones: a run starts empty)."""

    run: str

    @classmethod
    def fresh(cls, label: str) -> Names:
        return cls(f"bench-{label}-{uuid.uuid4().hex[:8]}")

    def group(self, service: str) -> str:
        return f"{self.run}-{service}"

    def database(self, service: str) -> str:
        return f"{self.run}_{service}".replace("-", "_")

    def personnel_groups(self) -> Groups:
        return personnel_groups(self.group("personnel"))

    def groups(self) -> Groups:
        return pipeline_groups(
            personnel=self.group("personnel"),
            inspections=self.group("inspections"),
            indicators=self.group("indicators"),
        )


async def produce(producer: AIOKafkaProducer, records: Sequence[Record]) -> None:
    pending = [
        await producer.send(r.topic, value=r.value, key=r.key, headers=r.headers) for r in records
    ]
    await asyncio.gather(*pending)


@contextlib.asynccontextmanager
async def in_process(
    names: Names,
    *,
    kafka: KafkaSettings,
    mongodb_url: str,
    clock: ManualClock,
    services: Sequence[str] = SERVICES,
) -> AsyncIterator[None]:
    """The services (by default all three) running in this event loop, started before
    this yields, in a process set up as theirs is (the garbage collector's thresholds)."""
    tune_collector()
    personnel = PersonnelSettings(
        mongodb_url=mongodb_url,
        mongodb_database=names.database("personnel"),
        group_id=names.group("personnel"),
        kafka=kafka,
    )
    inspections = InspectionsSettings(
        mongodb_url=mongodb_url,
        mongodb_database=names.database("inspections"),
        group_id=names.group("inspections"),
        kafka=kafka,
    )
    indicators = IndicatorsSettings(
        mongodb_url=mongodb_url,
        mongodb_database=names.database("indicators"),
        group_id=names.group("indicators"),
        kafka=kafka,
    )
    async with contextlib.AsyncExitStack() as running:
        if "personnel" in services:
            await running.enter_async_context(build_personnel(personnel, clock=clock))
        if "inspections" in services:
            await running.enter_async_context(build_inspections(inspections, clock=clock))
        if "indicators" in services:
            app = build_indicators(indicators, clock=clock, plans=load_plans(PLANS))
            await running.enter_async_context(app)
        yield


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServiceProcess:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.name} exited ({self.process.returncode}):\n{tail}")


def start_processes(
    names: Names, *, kafka: KafkaSettings, mongodb_url: str, log_dir: Path
) -> list[ServiceProcess]:
    """``python -m services.<name>`` for each service, each with its own log file."""
    log_dir.mkdir(parents=True, exist_ok=True)
    started = []
    for service in SERVICES:
        env = {
            **os.environ,
            "PARITY_MONGODB_URL": mongodb_url,
            "PARITY_MONGODB_DATABASE": names.database(service),
            "PARITY_GROUP_ID": names.group(service),
            "PARITY_METRICS_PORT": str(_free_port()),
            "PARITY_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "PARITY_KAFKA_PARTITIONS": str(kafka.partitions),
            "PARITY_PLANS_DIR": str(PLANS),
        }
        log = log_dir / f"{names.run}-{service}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", f"services.{service}"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        started.append(ServiceProcess(service, process, log))
    return started


def check_all_alive(processes: Sequence[ServiceProcess]) -> None:
    """Raise, with its log's tail, if one of ``processes`` exited."""
    for service in processes:
        service.check_alive()


async def stop_processes(processes: Sequence[ServiceProcess], timeout: float = 20.0) -> None:
    """SIGTERM each process this bench started, then SIGKILL what is left after ``timeout``."""
    for service in processes:
        if service.process.poll() is None:
            service.process.send_signal(signal.SIGTERM)
    for service in processes:
        for _ in range(int(timeout / 0.1)):
            if service.process.poll() is not None:
                break
            await asyncio.sleep(0.1)
        else:
            service.process.kill()
            service.process.wait()


async def drop_databases(mongo: AsyncMongoClient[Document], names: Names) -> None:
    for service in SERVICES:
        await mongo.drop_database(names.database(service))
