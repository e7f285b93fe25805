"""Operations on the real infrastructure: a Prometheus started by ``deploy/prometheus.sh``
scrapes a personnel service served over HTTP as in production, with the project's alert
rules loaded; consumer lag (``shared.lag``) read from the real Kafka."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import urllib.parse
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata
from prometheus_client import CollectorRegistry

from services.personnel.app import PersonnelSettings, build
from shared.clock import ManualClock
from shared.contract import PERSONNEL_TOPIC, UNITS_TOPIC
from shared.kafka import client_options
from shared.lag import LAG_METRIC, track_consumer_lag
from shared.settings import KafkaSettings
from shared.topics import TopicSpec, ensure_topics
from tests.integration.conftest import personnel_settings
from tests.integration.kafka_tools import eventually

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_SCRIPT = ROOT / "deploy" / "prometheus.sh"
ALERT_RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Prometheus:
    url: str
    service_port: int  # the port the scrape config expects the personnel service on

    def _get(self, path: str, params: dict[str, str]) -> Any:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=5) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        return body["data"]

    async def api(self, path: str, **params: str) -> Any:
        return await asyncio.to_thread(self._get, path, params)

    async def query(self, promql: str) -> list[dict[str, Any]]:
        data = await self.api("/api/v1/query", query=promql)
        result: list[dict[str, Any]] = data["result"]
        return result


def prometheus_script(command: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(PROMETHEUS_SCRIPT), command],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"deploy/prometheus.sh {command} failed ({done.returncode}); Prometheus is needed"
            f" here and comes from Debian's 'prometheus' package:\n{done.stdout}\n{done.stderr}"
        )


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    """A Prometheus of its own (own data dir and port), scraping every second the port where
    the test serves the personnel service, with the project's alert rules."""
    data = tmp_path_factory.mktemp("prometheus")
    port, service_port = free_port(), free_port()
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERT_RULES)],
        "scrape_configs": [
            {
                "job_name": "parity",
                "static_configs": [
                    {"targets": [f"127.0.0.1:{service_port}"], "labels": {"service": "personnel"}}
                ],
            }
        ],
    }
    config_file = data / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config))
    env = {
        **os.environ,
        "DATA": str(data),
        "PROMETHEUS_PORT": str(port),
        "PROMETHEUS_CONFIG": str(config_file),
    }
    prometheus_script("up", env)
    try:
        yield Prometheus(url=f"http://127.0.0.1:{port}", service_port=service_port)
    finally:
        prometheus_script("down", env)


@dataclass
class Served:
    settings: PersonnelSettings
    server: uvicorn.Server


@pytest.fixture
async def served_personnel(
    prometheus: Prometheus,
    kafka_settings: KafkaSettings,
    mongodb_url: str,
    database_name: str,
    clock: ManualClock,
) -> AsyncIterator[Served]:
    """The personnel service over HTTP as ``run`` serves it (uvicorn, ASGI lifespan)."""
    settings = personnel_settings(kafka_settings, mongodb_url, database_name).model_copy(
        update={"metrics_port": prometheus.service_port, "consumer_lag_interval_seconds": 0.5}
    )
    app = build(settings, clock=clock)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=settings.metrics_port, lifespan="on", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(60):
            while not server.started:
                if task.done():
                    task.result()  # raises what stopped it
                    pytest.fail("the personnel service stopped during start-up")
                await asyncio.sleep(0.05)
        yield Served(settings=settings, server=server)
    finally:
        server.should_exit = True
        await task


def alert_names(rules_file: Path) -> set[str]:
    groups = yaml.safe_load(rules_file.read_text())["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule}


async def test_prometheus_scrapes_the_service_and_loads_the_alert_rules(
    prometheus: Prometheus, served_personnel: Served
) -> None:
    up = await eventually(
        lambda: prometheus.query('up{job="parity", service="personnel"}'),
        lambda result: [r["value"][1] for r in result] == ["1"],
    )
    assert up[0]["metric"]["instance"] == f"127.0.0.1:{prometheus.service_port}"

    group = served_personnel.settings.group_id
    lag = await eventually(
        lambda: prometheus.query(f'{LAG_METRIC}{{service="personnel"}}'),
        lambda result: len(result) == 2,
    )
    assert {(r["metric"]["group"], r["metric"]["topic"]) for r in lag} == {
        (f"{group}.{UNITS_TOPIC}", UNITS_TOPIC),
        (f"{group}.{PERSONNEL_TOPIC}", PERSONNEL_TOPIC),
    }
    assert all(float(r["value"][1]) >= 0 for r in lag)

    names = await prometheus.api("/api/v1/label/__name__/values")
    assert {
        "parity_personnel_pending_references",
        "parity_personnel_waiting_future_events",
        LAG_METRIC,
    } <= set(names)

    rules = await prometheus.api("/api/v1/rules")
    loaded = {rule["name"] for group in rules["groups"] for rule in group["rules"]}
    assert loaded == alert_names(ALERT_RULES)
    assert all(rule["health"] == "ok" for group in rules["groups"] for rule in group["rules"])


async def test_every_dashboard_query_is_valid_promql(prometheus: Prometheus) -> None:
    dashboard = json.loads((ROOT / "deploy" / "prometheus" / "grafana-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert exprs
    for expr in exprs:
        # a syntax error makes the API answer 400 and _get fail
        data = await prometheus.api("/api/v1/query", query=expr)
        assert data["resultType"] in ("vector", "matrix", "scalar")


async def test_a_stopped_service_is_seen_down_by_the_alert_expression(
    prometheus: Prometheus, served_personnel: Served
) -> None:
    await eventually(
        lambda: prometheus.query('up{job="parity"}'),
        lambda result: [r["value"][1] for r in result] == ["1"],
    )
    served_personnel.server.should_exit = True
    down = await eventually(
        lambda: prometheus.query('up{job="parity"} == 0'),  # ParityServiceDown's expression
        lambda result: len(result) == 1,
    )
    assert down[0]["metric"]["service"] == "personnel"


@pytest.fixture
async def lag_topic(kafka_settings: KafkaSettings) -> AsyncIterator[str]:
    topic = f"ops-lag-{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_settings, [TopicSpec(topic, 2)])
    yield topic
    admin = AIOKafkaAdminClient(**client_options(kafka_settings))
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()


async def commit(settings: KafkaSettings, group: str, offsets: dict[TopicPartition, int]) -> None:
    options = client_options(settings)
    consumer = AIOKafkaConsumer(group_id=group, enable_auto_commit=False, **options)
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()})
    finally:
        await consumer.stop()


async def test_consumer_lag_is_the_uncommitted_records_summed_over_partitions(
    kafka_settings: KafkaSettings, producer: AIOKafkaProducer, lag_topic: str
) -> None:
    group = f"ops-lag-group-{uuid.uuid4().hex[:8]}"
    p0, p1 = TopicPartition(lag_topic, 0), TopicPartition(lag_topic, 1)
    for i in range(5):
        await producer.send_and_wait(lag_topic, f"a{i}".encode(), partition=0)
    for i in range(3):
        await producer.send_and_wait(lag_topic, f"b{i}".encode(), partition=1)

    registry = CollectorRegistry()

    def lag() -> float | None:
        return registry.get_sample_value(LAG_METRIC, {"group": group, "topic": lag_topic})

    async def read() -> float | None:
        return lag()

    task = track_consumer_lag(
        kafka_settings, registry=registry, groups={group: [lag_topic]}, interval=0.2
    )
    try:
        # nothing committed: every record counts
        await eventually(read, lambda value: value == 8)
        # 2 of 5 committed on partition 0, none on partition 1
        await commit(kafka_settings, group, {p0: 2})
        await eventually(read, lambda value: value == 6)
        # new records raise it
        for i in range(4):
            await producer.send_and_wait(lag_topic, f"c{i}".encode(), partition=1)
        await eventually(read, lambda value: value == 10)
        # everything committed
        await commit(kafka_settings, group, {p0: 5, p1: 7})
        await eventually(read, lambda value: value == 0)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert task.cancelled()
