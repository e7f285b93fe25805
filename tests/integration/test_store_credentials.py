"""The store through a URL with credentials: a second, separate FerretDB
(``deploy/ferretdb.sh`` with its own data dir and port) that requires a user, SCRAM-SHA-256,
reached only through the services' settings and client. The personnel service runs on it
whole; the shared store on 27017 is not touched."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from aiokafka import AIOKafkaProducer
from pymongo.errors import OperationFailure

from shared.contract import PERSONNEL_TOPIC
from shared.settings import KafkaSettings
from shared.store import make_mongo_client
from tests import events as ev
from tests.integration.conftest import Personnel, personnel_settings
from tests.integration.kafka_tools import produce
from tests.integration.test_personnel import person_where, seed_tree
from tests.local_servers import deploy_script, free_ports

USER = "parity-store"
AUTHENTICATION_FAILED, UNAUTHORIZED = 18, 13


@dataclass(frozen=True)
class SecureStore:
    port: int
    password: str

    def url(self, password: str | None = None) -> str:
        return (
            f"mongodb://{USER}:{quote(password or self.password, safe='')}@127.0.0.1:{self.port}/"
        )


@pytest.fixture(scope="module")
def secure_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureStore]:
    (port,) = free_ports(1)
    password = secrets.token_urlsafe(18)
    env = {
        **os.environ,
        "DATA": str(tmp_path_factory.mktemp("secure-store")),
        "FERRETDB_PORT": str(port),
        "FERRETDB_SETUP_USERNAME": USER,
        "FERRETDB_SETUP_PASSWORD": password,
    }
    deploy_script("ferretdb.sh", "up", env, timeout=120)
    try:
        yield SecureStore(port, password)
    finally:
        deploy_script("ferretdb.sh", "down", env, timeout=60)


@pytest.fixture(scope="module")
def mongodb_url(secure_store: SecureStore) -> str:
    """The URL every store fixture of this module uses (conftest's, overridden)."""
    return secure_store.url()


async def test_the_personnel_service_runs_on_a_store_that_requires_a_user(
    personnel: Personnel, producer: AIOKafkaProducer, secure_store: SecureStore
) -> None:
    assert secure_store.password not in repr(personnel.settings)
    await seed_tree(producer)
    await produce(producer, PERSONNEL_TOPIC, [ev.person_registered("X1", "D1")])
    doc = await person_where(personnel, "X1", lambda d: d["active"])
    assert doc["home_unit_id"] == "D1"


async def test_without_credentials_the_store_refuses(secure_store: SecureStore) -> None:
    client = make_mongo_client(f"mongodb://127.0.0.1:{secure_store.port}/", app_name="tests")
    try:
        with pytest.raises(OperationFailure) as refused:
            await client["parity_personnel"]["people"].find_one({})
        assert refused.value.code == UNAUTHORIZED
    finally:
        await client.close()


async def test_a_wrong_password_is_refused_and_not_logged(
    secure_store: SecureStore,
    kafka_settings: KafkaSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = secrets.token_urlsafe(18)
    settings = personnel_settings(kafka_settings, secure_store.url(wrong), "parity_personnel")
    assert wrong not in repr(settings)
    caplog.set_level(logging.DEBUG)
    client = make_mongo_client(settings.mongodb_url.get_secret_value(), app_name="tests")
    try:
        with pytest.raises(OperationFailure) as refused:
            await client[settings.mongodb_database]["people"].find_one({})
        assert refused.value.code == AUTHENTICATION_FAILED
    finally:
        await client.close()
    assert wrong not in str(refused.value)
    assert wrong not in caplog.text
