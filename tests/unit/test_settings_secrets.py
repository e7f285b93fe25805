"""Secrets in settings: typed SecretStr, never given a default value, never logged; Kafka
security settings that are only half given are refused at start-up."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import typing
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings

import services
from shared.kafka import broker_security, client_options
from shared.settings import KafkaSettings, ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
SECRET_NAME = re.compile(r"password|secret|token|api_key|mongodb_url|credential")
LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}


def settings_classes() -> list[type[BaseSettings]]:
    """Every settings class of shared/ and of each service's composition root."""
    for info in pkgutil.iter_modules(services.__path__):
        for module in ("app", "settings"):
            if (ROOT / "services" / info.name / f"{module}.py").exists():
                importlib.import_module(f"services.{info.name}.{module}")
    found: list[type[BaseSettings]] = []
    pending: list[type[BaseSettings]] = [BaseSettings]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub.__module__.startswith(("shared.", "services.")):
                found.append(sub)
            pending.append(sub)
    return found


def mentions_secret(annotation: object) -> bool:
    if annotation is SecretStr:
        return True
    return any(mentions_secret(arg) for arg in typing.get_args(annotation))


def test_the_scan_sees_the_settings_classes() -> None:
    names = {cls.__name__ for cls in settings_classes()}
    assert {"KafkaSettings", "ServiceSettings", "PersonnelSettings"} <= names


@pytest.mark.parametrize("cls", settings_classes(), ids=lambda cls: cls.__qualname__)
def test_no_secret_has_a_default_value(cls: type[BaseSettings]) -> None:
    for name, field in cls.model_fields.items():
        if not mentions_secret(field.annotation):
            continue
        assert field.default_factory is None, f"{cls.__name__}.{name} has a default factory"
        assert field.is_required() or field.default is None, (
            f"{cls.__name__}.{name} is a secret with a default value"
        )


@pytest.mark.parametrize("cls", settings_classes(), ids=lambda cls: cls.__qualname__)
def test_fields_named_like_secrets_are_secret_strings(cls: type[BaseSettings]) -> None:
    for name, field in cls.model_fields.items():
        if SECRET_NAME.search(name):
            assert mentions_secret(field.annotation), f"{cls.__name__}.{name} is not a SecretStr"


def test_the_store_url_is_required() -> None:
    assert ServiceSettings.model_fields["mongodb_url"].is_required()


def test_secrets_do_not_show_in_the_settings_representation() -> None:
    url = "mongodb://parity:store-pass-123@db.example:27017/"
    kafka = KafkaSettings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="parity",
        sasl_password=SecretStr("kafka-pass-456"),
    )
    settings = ServiceSettings(
        mongodb_url=SecretStr(url), mongodb_database="parity_test", kafka=kafka
    )
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert "store-pass-123" not in shown
        assert "kafka-pass-456" not in shown


def logging_calls_reveal_secrets(path: Path) -> list[int]:
    """Lines of log calls whose arguments call ``get_secret_value()``."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOG_METHODS
        ):
            continue
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            for inner in ast.walk(arg):
                if isinstance(inner, ast.Attribute) and inner.attr == "get_secret_value":
                    lines.append(node.lineno)
    return lines


def test_no_log_call_reveals_a_secret() -> None:
    sources = [*(ROOT / "shared").rglob("*.py"), *(ROOT / "services").rglob("*.py")]
    offenders = {str(p): lines for p in sources if (lines := logging_calls_reveal_secrets(p))}
    assert not offenders


def test_the_log_scan_finds_a_revealing_call(tmp_path: Path) -> None:
    source = tmp_path / "bad.py"
    source.write_text("log.info('url %s', settings.mongodb_url.get_secret_value())\n")
    assert logging_calls_reveal_secrets(source) == [1]


@pytest.mark.parametrize(
    "given",
    [
        {"security_protocol": "SASL_SSL"},
        {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512"},
        {"security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN", "sasl_username": "u"},
        {"sasl_username": "u", "sasl_password": "p"},
        {"ssl_cafile": "/etc/ca.crt"},
        {"security_protocol": "SSL", "ssl_keyfile": "/etc/client.key"},
    ],
)
def test_half_given_kafka_security_is_refused(given: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        KafkaSettings.model_validate(given)


def test_sasl_ssl_settings_become_client_and_broker_options() -> None:
    settings = KafkaSettings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="parity",
        sasl_password=SecretStr("pw"),
    )
    options = client_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("parity", "pw")
    assert options["ssl_context"] is not None
    security = broker_security(settings)
    assert type(security).__name__ == "SASLScram512"
    assert security is not None
    assert security.use_ssl
    assert broker_security(KafkaSettings()) is None


def test_plaintext_by_default_and_tls_alone_is_possible() -> None:
    assert client_options(KafkaSettings())["security_protocol"] == "PLAINTEXT"
    tls = broker_security(KafkaSettings(security_protocol="SSL"))
    assert tls is not None
    assert tls.use_ssl
