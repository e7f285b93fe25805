"""A private Kafka and FerretDB for the fault tests, started with the project's own scripts
(``deploy/kafka.sh``, ``deploy/ferretdb.sh``) on free ports under their own ``DATA``, so
that killing them disturbs nobody else. ``kill`` is ``kill -9`` of the pid the script
recorded, checked against the process's command line first."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from shared.settings import KafkaSettings
from tests.local_servers import free_ports

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PARTITIONS = 3
# How each component's process is recognised in /proc/PID/cmdline (as in the scripts).
MARKERS = {"kafka": "kafka.Kafka", "ferretdb": "ferretdb --handler="}


class InfrastructureError(RuntimeError):
    """A deploy script failed or a component would not die."""


@dataclass
class Infrastructure:
    data: Path
    kafka_port: int
    controller_port: int
    ferretdb_port: int
    kills: dict[str, int] = field(default_factory=lambda: {"kafka": 0, "ferretdb": 0})
    restart_seconds: dict[str, list[float]] = field(
        default_factory=lambda: {"kafka": [], "ferretdb": []}
    )

    @classmethod
    def under(cls, data: Path) -> Infrastructure:
        kafka, controller, ferretdb = free_ports(3)
        return cls(data, kafka, controller, ferretdb)

    @property
    def kafka(self) -> KafkaSettings:
        return KafkaSettings(
            bootstrap_servers=f"127.0.0.1:{self.kafka_port}", partitions=PARTITIONS
        )

    @property
    def mongodb_url(self) -> str:
        return f"mongodb://127.0.0.1:{self.ferretdb_port}/"

    def _env(self) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("PARITY_")},
            "DATA": str(self.data),
            "KAFKA_PORT": str(self.kafka_port),
            "KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "FERRETDB_PORT": str(self.ferretdb_port),
            "KAFKA_HEAP_OPTS": "-Xms128m -Xmx512m",
        }

    def script(self, component: str, command: str, *, timeout: float = 180) -> None:
        done = subprocess.run(
            [str(DEPLOY / f"{component}.sh"), command],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise InfrastructureError(
                f"deploy/{component}.sh {command} failed ({done.returncode}):\n"
                f"{done.stdout}\n{done.stderr}"
            )

    def up(self) -> None:
        self.script("ferretdb", "up")
        self.script("kafka", "up")

    def down(self) -> None:
        errors = []
        for component in ("kafka", "ferretdb"):
            try:
                self.script(component, "down", timeout=90)
            except (InfrastructureError, subprocess.TimeoutExpired) as error:
                errors.append(str(error))
        if errors:
            raise InfrastructureError("\n".join(errors))

    def pid(self, component: str) -> int:
        """The live pid the script recorded, checked against the component's command line."""
        recorded = (self.data / "run" / f"{component}.pid").read_text().strip()
        pid = int(recorded)
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        if MARKERS[component] not in cmdline:
            raise InfrastructureError(f"pid {pid} is not our {component}: {cmdline[:200]}")
        return pid

    def kill(self, component: str) -> None:
        """``kill -9``, and wait until the process is gone (at most 10 s)."""
        pid = self.pid(component)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and _state(pid) != "Z":
            if time.monotonic() > deadline:
                raise InfrastructureError(f"{component} (pid {pid}) survived SIGKILL")
            time.sleep(0.05)
        self.kills[component] += 1

    def restart(self, component: str) -> None:
        start = time.monotonic()
        self.script(component, "up")
        self.restart_seconds[component].append(time.monotonic() - start)


def _state(pid: int) -> str:
    """The process state letter from /proc (``Z`` for a zombie), or empty if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return ""
    return stat.rsplit(")", 1)[1].split()[0]
