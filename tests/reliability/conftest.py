"""Fixtures of the fault tests: a private Kafka and FerretDB for the whole session.

They are started with ``deploy/kafka.sh`` and ``deploy/ferretdb.sh`` on free ports, with
``DATA`` in a temporary directory, and stopped at the end; the shared ones (9092, 27017)
are never touched. ``PARITY_FAULTS=long`` (``make faults``) selects the long form.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.infra import Infrastructure

LONG = os.environ.get("PARITY_FAULTS", "short") == "long"


@pytest.fixture(scope="session")
def fault_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("parity-faults")
    yield data
    if os.environ.get("PARITY_FAULTS_KEEP") is None:
        shutil.rmtree(data / "kafka", ignore_errors=True)
        shutil.rmtree(data / "ferretdb", ignore_errors=True)


@pytest.fixture(scope="session")
def infrastructure(fault_data: Path) -> Iterator[Infrastructure]:
    infra = Infrastructure.under(fault_data)
    try:
        infra.up()
        yield infra
    finally:
        infra.down()


@pytest.fixture(scope="session")
def service_logs(fault_data: Path) -> Path:
    """Each service process's output, one file per replica (kept if a test fails)."""
    logs = fault_data / "service-logs"
    logs.mkdir(exist_ok=True)
    return logs
