"""Servers that tests start privately with the project's own deploy scripts (their own
``DATA`` and free loopback ports), so that nothing shared is disturbed."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def deploy_script(script: str, command: str, env: dict[str, str], timeout: float) -> None:
    """Run ``deploy/<script> <command>``; the test fails with its output if it fails."""
    done = subprocess.run(
        [str(DEPLOY / script), command],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"deploy/{script} {command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
