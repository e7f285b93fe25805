"""What a benchmark run measures and where (pydantic-settings, environment prefix ``BENCH_``).

The bench never runs against the shared development Kafka (9092) or FerretDB (27017): other
tests use them, and a benchmark sharing them measures the neighbours. ``make bench`` starts
its own on other ports (see the Makefile) and points ``PARITY_KAFKA_BOOTSTRAP_SERVERS`` and
``PARITY_MONGODB_URL`` at them.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import KafkaSettings
from tests.generator import ProvinceShape

ROOT = Path(__file__).resolve().parents[1]
SHARED_PORTS = {9092, 27017}


class BenchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BENCH_", extra="ignore")

    agencies: int = Field(default=3, ge=1, description="size of the province (`make bench SIZE=`)")
    years: int = Field(default=2, ge=1, description="years of HR history before `now`")
    scale: int = Field(default=3, ge=2, description="the larger organisation: agencies × scale")
    seed: int = 7
    freshness_events: int = Field(default=300, ge=10)
    # runs of freshness_events at half the end-to-end rate, pooled (bench/freshness.py)
    freshness_runs: int = Field(default=3, ge=1)
    # on an idle system: one event every idle_interval_seconds, each alone in the pipeline
    idle_freshness_events: int = Field(default=20, ge=5)
    idle_interval_seconds: float = Field(default=2.0, gt=0)
    partitions: int = Field(default=6, ge=1)
    settle_timeout_seconds: float = Field(default=1200.0, gt=0)
    profile: bool = Field(default=True, description="py-spy the service processes if installed")
    results: Path = ROOT / "bench" / "RESULTS.md"
    data: Path | None = Field(
        default=None, description="DATA of the bench's Kafka and FerretDB (for their pids)"
    )

    def province_shape(self) -> ProvinceShape:
        return ProvinceShape(agencies=self.agencies, years=self.years)

    def larger_shape(self) -> ProvinceShape:
        return ProvinceShape(agencies=self.agencies * self.scale, years=self.years)


def mongodb_url() -> str:
    url = os.environ.get("PARITY_MONGODB_URL")
    if not url:
        raise SystemExit("bench: set PARITY_MONGODB_URL to the bench's FerretDB (see Makefile)")
    return url


def kafka_settings(partitions: int) -> KafkaSettings:
    return KafkaSettings(partitions=partitions)


def refuse_shared_infrastructure(kafka: KafkaSettings, mongo_url: str) -> None:
    """Stop before touching the shared Kafka or FerretDB (topics are recreated here)."""
    ports = {int(server.rsplit(":", 1)[1]) for server in kafka.bootstrap_servers.split(",")}
    ports.add(urlsplit(mongo_url).port or 27017)
    if ports & SHARED_PORTS:
        raise SystemExit(
            f"bench: refusing to run on the shared ports {sorted(ports & SHARED_PORTS)};"
            " run `make bench` (it starts its own Kafka and FerretDB on other ports)"
        )
