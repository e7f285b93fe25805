"""The deployment files agree with the code and with each other: docker-compose.yml, the
Procfile, the Prometheus scrape configs, the alert rules and the Grafana dashboard."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from shared.kafka import make_broker
from shared.lag import LAG_METRIC
from shared.metrics import make_metrics
from shared.settings import KafkaSettings, ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
SERVICES = ("personnel", "indicators", "inspections", "notifications")
BUILTIN_SERIES = {"up", "ALERTS", "ALERTS_FOR_STATE"}  # written by Prometheus itself
METRIC_SUFFIXES = ("_total", "_bucket", "_sum", "_count", "_created")
PROMQL_WORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "bool", "offset",
    "group_left", "group_right",
}  # fmt: skip


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def procfile_services() -> dict[str, str]:
    lines = (ROOT / "deploy" / "Procfile").read_text().splitlines()
    pairs = [line.split(":", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {name.strip(): command.strip() for name, command in pairs}


def scrape_ports(config_file: Path) -> dict[str, str]:
    """service label -> target (host:port) of the `parity` job."""
    (job,) = [j for j in load_yaml(config_file)["scrape_configs"] if j["job_name"] == "parity"]
    return {
        group["labels"]["service"]: target
        for group in job["static_configs"]
        for target in group["targets"]
    }


# -- docker-compose.yml and the Procfile ---------------------------------------------------


def test_every_procfile_service_has_a_compose_service_running_the_same_module() -> None:
    compose = load_yaml(ROOT / "docker-compose.yml")["services"]
    procfile = procfile_services()
    assert procfile, "deploy/Procfile names no service"
    for name, command in procfile.items():
        assert name in compose, f"{name} is in deploy/Procfile but not in docker-compose.yml"
        module = command.split(" -m ", 1)[1].split()[0]
        assert compose[name]["command"] == ["python", "-m", module]


def test_compose_ports_match_the_scrape_configs_and_the_service_settings() -> None:
    compose = load_yaml(ROOT / "docker-compose.yml")["services"]
    local = scrape_ports(PROMETHEUS / "prometheus.yml")
    in_compose = scrape_ports(PROMETHEUS / "prometheus.compose.yml")
    assert set(local) == set(in_compose) == set(SERVICES)
    for service in SERVICES:
        port = compose[service]["environment"]["PARITY_METRICS_PORT"]
        assert local[service] == f"127.0.0.1:{port}"
        assert in_compose[service] == f"{service}:{port}"
        assert compose[service]["ports"] == [f"127.0.0.1:{port}:{port}"]
        assert compose[service]["environment"]["PARITY_METRICS_HOST"] == "0.0.0.0"


def test_compose_environment_names_real_settings() -> None:
    compose = load_yaml(ROOT / "docker-compose.yml")["services"]
    shared_fields = {f"PARITY_{name.upper()}" for name in ServiceSettings.model_fields}
    shared_fields |= {f"PARITY_KAFKA_{name.upper()}" for name in KafkaSettings.model_fields}
    for service in SERVICES:
        env = compose[service]["environment"]
        assert {"PARITY_MONGODB_URL", "PARITY_KAFKA_BOOTSTRAP_SERVERS"} <= set(env)
        unknown = set(env) - shared_fields - {"PARITY_PLANS_DIR"}
        assert not unknown, f"{service}: no setting reads {unknown}"


def test_compose_uses_the_official_images_and_the_prometheus_config() -> None:
    compose = load_yaml(ROOT / "docker-compose.yml")["services"]
    assert compose["kafka"]["image"].startswith("apache/kafka:")
    assert compose["kafka"]["ports"] == ["127.0.0.1:9092:9092"]
    assert compose["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert compose["mongo"]["image"] == "mongo:7"
    prometheus = compose["prometheus"]
    assert prometheus["image"].startswith("prom/prometheus:")
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.compose.yml" in prometheus["command"]
    for service in SERVICES:
        assert compose[service]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (ROOT / "deploy" / "Dockerfile").read_text().startswith("# One image"), (
        "deploy/Dockerfile is missing"
    )


# -- metric names in the dashboard and the alert rules exist in the code -------------------


def promql_metric_selectors(expr: str) -> tuple[set[str], set[str]]:
    """(metric names, ``__name__`` regexes) an expression selects."""
    regexes = set(re.findall(r'__name__\s*=~\s*"([^"]*)"', expr))
    names = set(re.findall(r'__name__\s*=\s*"([^"]*)"', expr))
    rest = re.sub(r'"[^"]*"', '""', expr)
    rest = re.sub(r"\{[^}]*\}", " ", rest)
    rest = re.sub(r"\[[^\]]*\]", " ", rest)
    rest = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", rest)
    for match in re.finditer(r"(?<![\w.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", rest):
        word, is_call = match.group(1), match.group(2)
        if not is_call and word not in PROMQL_WORDS:
            names.add(word)
    return names, regexes


def code_metric_patterns() -> list[re.Pattern[str]]:
    """Metric names the code registers: string literals, and f-strings such as
    ``f"{prefix}_outbox_depth"`` as patterns, from every module of shared/ and services/."""
    patterns = []
    for path in [*(ROOT / "shared").rglob("*.py"), *(ROOT / "services").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if re.fullmatch(r"parity_[a-z0-9_]+", node.value):
                    patterns.append(re.compile(re.escape(node.value)))
            elif isinstance(node, ast.JoinedStr) and node.values:
                parts = [str(v.value) if isinstance(v, ast.Constant) else None for v in node.values]
                # only a name with a literal ending: f"{prefix}_outbox_depth", not f"{a}_{b}"
                if parts[-1] is None or not re.fullmatch(r"_[a-z_]{3,}", parts[-1]):
                    continue
                pattern = "".join("[a-z0-9_]+" if p is None else re.escape(p) for p in parts)
                patterns.append(re.compile(pattern))
    return patterns


def registered_names() -> set[str]:
    """Every series name the shared kernel and FastStream register on a service's registry."""
    names = set()
    for service in SERVICES:
        metrics = make_metrics(service)
        make_broker(KafkaSettings(), service=service, registry=metrics.registry)
        names |= set(metrics.registry._names_to_collectors)
    return names


def known_metric(name: str, patterns: list[re.Pattern[str]], registered: set[str]) -> bool:
    if name in BUILTIN_SERIES or name in registered:
        return True
    base = name
    for suffix in METRIC_SUFFIXES:
        base = base.removesuffix(suffix)
    return name.startswith("parity_") and any(p.fullmatch(base) for p in patterns)


def dashboard_exprs() -> list[str]:
    dashboard = json.loads((PROMETHEUS / "grafana-dashboard.json").read_text(encoding="utf-8"))
    assert dashboard["panels"], "the dashboard has no panels"
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def alert_exprs() -> list[str]:
    groups = load_yaml(PROMETHEUS / "alerts.yml")["groups"]
    return [str(rule["expr"]) for group in groups for rule in group["rules"]]


@pytest.mark.parametrize("source", ["dashboard", "alerts"])
def test_every_metric_queried_exists_in_the_code(source: str) -> None:
    exprs = dashboard_exprs() if source == "dashboard" else alert_exprs()
    patterns, registered = code_metric_patterns(), registered_names()
    for expr in exprs:
        names, regexes = promql_metric_selectors(expr)
        assert names or regexes, f"no metric found in {expr!r}"
        for name in names:
            assert known_metric(name, patterns, registered), f"{name} ({expr!r}) is in no code"
        for regex in regexes:
            assert any(re.fullmatch(regex, n) for n in registered), f"{regex} matches nothing"


def test_the_dashboard_panels_cover_the_operations_metrics() -> None:
    selected = set()
    for expr in dashboard_exprs():
        names, regexes = promql_metric_selectors(expr)
        selected |= names | {f"re:{r}" for r in regexes}
    assert {
        "up",
        LAG_METRIC,
        "parity_notifications_outbox_depth",
        "parity_indicator_target_gap",
        "parity_batch_failures_total",
        "parity_sweep_failures_total",
    } <= selected
    assert any("dead_letters" in s for s in selected)


def test_the_metric_name_extraction_reads_promql() -> None:
    names, regexes = promql_metric_selectors(
        'sum by (service, le) (rate(foo_seconds_bucket{job="x"}[5m])) > on (job) bar'
        ' and {__name__=~"parity_[a-z]+_x_total"} unless histogram_quantile(0.9, baz)'
    )
    assert names == {"foo_seconds_bucket", "bar", "baz"}
    assert regexes == {"parity_[a-z]+_x_total"}


def test_an_unknown_metric_is_reported() -> None:
    patterns, registered = code_metric_patterns(), registered_names()
    assert known_metric("parity_personnel_dead_letters_total", patterns, registered)
    assert known_metric("parity_consumer_lag", patterns, registered)
    assert not known_metric("parity_personnel_imaginary_total", patterns, registered)
    assert not known_metric("node_cpu_seconds_total", patterns, registered)


def test_the_registry_of_a_service_holds_the_lag_gauge_once() -> None:
    from shared.lag import consumer_lag_gauge

    registry = CollectorRegistry()
    assert consumer_lag_gauge(registry) is consumer_lag_gauge(registry)
    assert LAG_METRIC in registry._names_to_collectors
