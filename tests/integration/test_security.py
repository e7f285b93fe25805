"""Kafka security through configuration: SASL/SCRAM-SHA-512 over TLS on a second, separate
local broker (``deploy/kafka.sh`` with its own data dir and ports, a SASL_SSL listener, a
SCRAM user and a CA it generates), reached only through ``shared.kafka``'s options."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from faststream import AckPolicy
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from shared.kafka import client_options, make_broker, make_producer
from shared.settings import KafkaSettings
from shared.topics import TopicSpec, ensure_topics
from tests.local_servers import DEPLOY, deploy_script, free_ports

SCRAM_USER = "parity-test"


@dataclass(frozen=True)
class SecureKafka:
    settings: KafkaSettings  # SASL_SSL, SCRAM-SHA-512, trusting the broker's CA
    ca_file: Path
    data: Path  # the broker's DATA


def secured_broker_env(data: Path, password: str) -> dict[str, str]:
    """What deploy/kafka.sh is given for a broker of its own in ``data``, on free ports,
    with a SASL_SSL listener and the SCRAM user ``SCRAM_USER``."""
    plaintext, controller, sasl_ssl = free_ports(3)
    return {
        **os.environ,
        "DATA": str(data),
        "KAFKA_PORT": str(plaintext),
        "KAFKA_CONTROLLER_PORT": str(controller),
        "KAFKA_SASL_SSL_PORT": str(sasl_ssl),
        "KAFKA_SCRAM_USERNAME": SCRAM_USER,
        "KAFKA_SCRAM_PASSWORD": password,
        "KAFKA_HEAP_OPTS": "-Xms128m -Xmx512m",
    }


@pytest.fixture(scope="session")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    """A second broker with a SASL_SSL listener, started by the deploy script and stopped
    after the session (the shared broker on 9092 is not touched)."""
    data = tmp_path_factory.mktemp("secure-kafka")
    # with what a java @-file must quote or escape, a tab and a line break too (the deploy
    # script passes it to the format tool in one, not on a command line)
    password = secrets.token_urlsafe(18) + ' #"\\$x\t\n'
    env = secured_broker_env(data, password)
    deploy_script("kafka.sh", "up", env, timeout=180)
    try:
        ca_file = data / "kafka" / "tls" / "ca.crt"
        settings = KafkaSettings(
            bootstrap_servers=f"127.0.0.1:{env['KAFKA_SASL_SSL_PORT']}",
            security_protocol="SASL_SSL",
            sasl_mechanism="SCRAM-SHA-512",
            sasl_username=SCRAM_USER,
            sasl_password=SecretStr(password),
            ssl_cafile=str(ca_file),
            partitions=1,
        )
        yield SecureKafka(settings=settings, ca_file=ca_file, data=data)
    finally:
        deploy_script("kafka.sh", "down", env, timeout=60)


@pytest.fixture
async def secure_topic(secure_kafka: SecureKafka) -> str:
    topic = f"security-{uuid.uuid4().hex[:8]}"
    created = await ensure_topics(secure_kafka.settings, [TopicSpec(topic, 1)])
    assert created == [topic]
    return topic


async def read_values(settings: KafkaSettings, topic: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        group_id=f"security-reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **client_options(settings),
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(values) < count:
                batch = await consumer.getmany(timeout_ms=200)
                values += [r.value for records in batch.values() for r in records]
        return values
    finally:
        await consumer.stop()


async def test_produce_and_consume_over_sasl_ssl_with_scram_sha_512(
    secure_kafka: SecureKafka, secure_topic: str
) -> None:
    producer = make_producer(secure_kafka.settings, service="security-test")
    await producer.start()
    try:
        await producer.send_and_wait(secure_topic, b"first", key=b"U-1")
        await producer.send_and_wait(secure_topic, b"second", key=b"U-1")
    finally:
        await producer.stop()
    assert await read_values(secure_kafka.settings, secure_topic, 2) == [b"first", b"second"]


async def test_the_faststream_broker_publishes_and_subscribes_over_sasl_ssl(
    secure_kafka: SecureKafka, secure_topic: str
) -> None:
    broker = make_broker(
        secure_kafka.settings, service="security-test", registry=CollectorRegistry()
    )
    received: asyncio.Queue[bytes] = asyncio.Queue()

    @broker.subscriber(
        secure_topic,
        group_id=f"security-broker-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def on_record(body: bytes) -> None:
        await received.put(body)

    async with broker:
        await broker.start()
        await broker.publish(b"through faststream", topic=secure_topic)
        async with asyncio.timeout(30):
            assert await received.get() == b"through faststream"


async def refused(settings: KafkaSettings, caplog: pytest.LogCaptureFixture) -> str:
    """Start a producer that must be refused; return what aiokafka logged about why."""
    producer = AIOKafkaProducer(request_timeout_ms=10_000, **client_options(settings))
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="aiokafka"):
        try:
            with pytest.raises(KafkaConnectionError):
                await producer.start()
        finally:
            await producer.stop()
    return "\n".join(record.getMessage() for record in caplog.records)


def test_the_password_is_left_in_no_file_of_the_broker(secure_kafka: SecureKafka) -> None:
    password = secure_kafka.settings.sasl_password
    assert password is not None
    # its random part: a file may hold the rest escaped
    secret = password.get_secret_value().split(" ")[0].encode()
    assert len(secret) == 24
    files = [f for f in (secure_kafka.data / "kafka").rglob("*") if f.is_file()]
    assert any(f.name == "server.properties" for f in files)
    assert [f for f in files if secret in _content(f)] == []


def test_a_format_ended_by_a_signal_leaves_no_password_behind(tmp_path: Path) -> None:
    """deploy/kafka.sh stopped (SIGTERM) while the format tool runs: the argument file that
    holds the password goes with it (it stayed before the script's EXIT trap)."""
    env = secured_broker_env(tmp_path, secrets.token_urlsafe(18))
    argfile = tmp_path / "kafka" / "format.args"
    script = subprocess.Popen(
        [str(DEPLOY / "kafka.sh"), "up"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not argfile.exists() and script.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert argfile.exists(), "the format step never wrote its argument file"
        script.terminate()
        assert script.wait(timeout=60) != 0
    finally:
        if script.poll() is None:
            script.kill()
        deploy_script("kafka.sh", "down", env, timeout=60)
    assert not argfile.exists()


def _content(path: Path) -> bytes:
    """The file's bytes; none if the running broker removed it since it was listed (a
    state file replaced through a temporary one, say)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


async def test_a_wrong_password_is_refused_and_not_logged(
    secure_kafka: SecureKafka, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = secrets.token_urlsafe(12)
    settings = secure_kafka.settings.model_copy(update={"sasl_password": SecretStr(wrong)})
    why = await refused(settings, caplog)
    assert "SaslAuthenticationFailed" in why
    assert wrong not in why
    assert wrong not in repr(settings)
    assert wrong not in str(settings.model_dump())


async def test_an_unknown_user_is_refused(
    secure_kafka: SecureKafka, caplog: pytest.LogCaptureFixture
) -> None:
    settings = secure_kafka.settings.model_copy(update={"sasl_username": "nobody"})
    assert "SaslAuthenticationFailed" in await refused(settings, caplog)


async def test_a_client_that_does_not_trust_the_brokers_ca_is_refused(
    secure_kafka: SecureKafka, caplog: pytest.LogCaptureFixture
) -> None:
    settings = secure_kafka.settings.model_copy(update={"ssl_cafile": None})
    assert "CERTIFICATE_VERIFY_FAILED" in await refused(settings, caplog)


async def test_the_sasl_listener_does_not_accept_plaintext(secure_kafka: SecureKafka) -> None:
    settings = KafkaSettings(bootstrap_servers=secure_kafka.settings.bootstrap_servers)
    producer = AIOKafkaProducer(request_timeout_ms=5_000, **client_options(settings))
    try:
        with pytest.raises(KafkaConnectionError):
            await producer.start()
    finally:
        await producer.stop()


def test_the_scram_credentials_come_from_the_environment(
    secure_kafka: SecureKafka, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected: dict[str, Any] = {
        "bootstrap_servers": secure_kafka.settings.bootstrap_servers,
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": SCRAM_USER,
        "ssl_cafile": str(secure_kafka.ca_file),
    }
    for name, value in expected.items():
        monkeypatch.setenv(f"PARITY_KAFKA_{name.upper()}", value)
    password = secure_kafka.settings.sasl_password
    assert password is not None
    monkeypatch.setenv("PARITY_KAFKA_SASL_PASSWORD", password.get_secret_value())
    from_env = KafkaSettings()
    assert from_env.model_dump(include=set(expected)) == expected
    options = client_options(from_env)
    assert options["sasl_plain_password"] == password.get_secret_value()
    assert options["ssl_context"].verify_mode.name == "CERT_REQUIRED"
