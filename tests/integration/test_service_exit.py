"""A service that cannot start, or whose broker fails after the start-up hooks, ends with an
error (shared/service.run), instead of serving /metrics and /health with no consumer behind them."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from uvicorn.config import STARTUP_FAILURE

from shared.service import BROKER_NOT_STARTED

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_service(startup: str, shutdown: str) -> tuple[int, str]:
    """Run a service with these hooks against a closed Kafka port; its exit code and output."""
    kafka, http = free_port(), free_port()
    script = textwrap.dedent(
        f"""
        import asyncio
        from faststream.kafka import KafkaBroker
        from shared.metrics import make_metrics
        from shared.service import asgi_app, run

        async def start() -> None:
            {startup}
            print("start-up hooks done", flush=True)

        async def stop() -> None:
            {shutdown}

        broker = KafkaBroker("127.0.0.1:{kafka}")
        app = asgi_app(broker, metrics=make_metrics("probe"), health_checks={{}},
                       on_startup=[start], on_shutdown=[stop])
        run(app, host="127.0.0.1", port={http})
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize(
    "shutdown",
    [
        "pass",
        # as the services' own: their background tasks cancelled, their clients closed
        "await asyncio.sleep(0.01)",
    ],
)
def test_a_broker_that_cannot_start_ends_the_process_with_an_error(shutdown: str) -> None:
    """Start-up hooks succeed; the broker then finds no Kafka (a closed port), as when Kafka
    went away between the two. FastStream has reported start-up complete by then, so uvicorn
    would go on serving and the process never end (this test timed out). FastStream runs the
    shutdown hooks cancelled then: one that awaits stops at its first await, and a fix that
    relied on a hook after it never ran (the second case)."""
    code, output = run_service("pass", shutdown)
    assert "start-up hooks done" in output
    assert code == 1, output
    assert BROKER_NOT_STARTED in output


def test_start_up_hooks_that_fail_end_the_process_with_uvicorns_start_up_failure() -> None:
    """uvicorn's own exit (code 3), which the supervisors of the fault tests count on."""
    code, output = run_service("raise ConnectionError('no store')", "pass")
    assert "start-up hooks done" not in output
    assert code == STARTUP_FAILURE, output
    assert "Application startup failed" in output
