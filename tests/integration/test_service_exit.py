"""A service whose broker fails after the start-up hooks ends with an error (shared/service.run),
instead of serving /metrics and /health with no consumer behind them."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_broker_that_cannot_start_ends_the_process_with_an_error() -> None:
    """Start-up hooks succeed; the broker then finds no Kafka (a closed port), as when Kafka
    went away between the two. FastStream has reported start-up complete by then, so before
    the fix uvicorn went on serving and the process never ended (this test timed out)."""
    kafka, http = free_port(), free_port()
    script = textwrap.dedent(
        f"""
        from faststream.kafka import KafkaBroker
        from shared.metrics import make_metrics
        from shared.service import asgi_app, run

        async def hooks_done() -> None:
            print("start-up hooks done", flush=True)

        broker = KafkaBroker("127.0.0.1:{kafka}")
        app = asgi_app(broker, metrics=make_metrics("probe"), health_checks={{}},
                       on_startup=[hooks_done])
        run(app, host="127.0.0.1", port={http})
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    output = done.stdout + done.stderr
    assert "start-up hooks done" in output
    assert done.returncode == 1, output
    assert "stopped on its own" in output
