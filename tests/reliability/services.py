"""The personnel, inspections and indicators services, each run as its own OS process
(``python -m services.<name>``) against the private Kafka and FerretDB, as a supervisor
would run them: started, killed with ``kill -9``, restarted, stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from services.kit.replay import pipeline_groups
from shared.service import BROKER_NOT_STARTED
from tests.local_servers import free_ports
from tests.reliability.infra import DEPLOY, PARTITIONS, ROOT, Infrastructure

SERVICES = ("personnel", "inspections", "indicators")
# The last line of a start-up refused: by uvicorn (a start-up hook failed) or by
# shared.service.run (the broker could not start after the hooks had run)
STARTUP_FAILED = ("Application startup failed. Exiting.", BROKER_NOT_STARTED)
START_MARK = "---- started at "


@dataclass(frozen=True)
class Names:
    """One scenario's consumer groups and databases (unique, so scenarios never mix)."""

    run_id: str

    def group(self, service: str) -> str:
        return f"faults-{self.run_id}-{service}"

    def database(self, service: str) -> str:
        return f"faults_{self.run_id}_{service}"

    def consumer_groups(self) -> dict[str, list[str]]:
        """Each consumer group the services run, with the topics it reads."""
        return pipeline_groups(
            personnel=self.group("personnel"),
            inspections=self.group("inspections"),
            indicators=self.group("indicators"),
        )


@dataclass
class ServiceProcess:
    service: str
    replica: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    expected_exit: bool = False
    unexpected_exits: list[int] = field(default_factory=list)
    _log: IO[bytes] | None = None

    @property
    def name(self) -> str:
        return f"{self.service}#{self.replica}"

    def start(self) -> None:
        self._log = self._log or self.log_path.open("ab")
        self._log.write(f"{START_MARK}{time.time():.3f}\n".encode())
        self._log.flush()
        self.expected_exit = False
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.service}"],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check(self) -> int | None:
        """The exit code if the process ended without being told to (recorded once)."""
        if self.process is None or self.expected_exit:
            return None
        code = self.process.poll()
        if code is not None:
            self.unexpected_exits.append(code)
            self.expected_exit = True  # recorded; a restart clears it
        return code

    def kill(self) -> None:
        """``kill -9`` of this very process (by its pid), then reap it."""
        if self.process is None:
            return
        self.expected_exit = True
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM (a graceful stop: the consumer leaves its group), SIGKILL after ``timeout``."""
        if self.process is None:
            return
        self.expected_exit = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def close(self) -> None:
        self.stop()
        if self._log is not None:
            self._log.close()

    def last_run_log(self) -> str:
        """The output since the last start."""
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace").rsplit(START_MARK, 1)[-1]

    def log_tail(self, lines: int = 25) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


# Small batches and bulk passes for the personnel service: the provinces here are small,
# and the kills, restarts and replicas should meet its bulk paths too (catch_up.py on a
# first start on a backlog, behind.py after a full batch with a backlog behind it).
PERSONNEL_BULK = {"PARITY_BATCH_SIZE": "20", "PARITY_CATCH_UP_RECORDS": "20"}
BULK_MARKS = ("caught up on", "applied in bulk")  # what catch_up.py and behind.py log


@dataclass
class Fleet:
    """Every service process of one scenario."""

    infra: Infrastructure
    names: Names
    logs: Path
    processes: list[ServiceProcess] = field(default_factory=list)
    kills: Counter[str] = field(default_factory=Counter)
    restarts: Counter[str] = field(default_factory=Counter)

    def env(self, service: str) -> dict[str, str]:
        (metrics_port,) = free_ports(1)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PARITY_")},
            "PARITY_MONGODB_URL": self.infra.mongodb_url,
            "PARITY_MONGODB_DATABASE": self.names.database(service),
            "PARITY_GROUP_ID": self.names.group(service),
            "PARITY_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{self.infra.kafka_port}",
            "PARITY_KAFKA_PARTITIONS": str(PARTITIONS),
            "PARITY_METRICS_PORT": str(metrics_port),
            "PARITY_SWEEP_INTERVAL_SECONDS": "1",
            "PARITY_CONSUMER_LAG_INTERVAL_SECONDS": "5",
            "PARITY_PLANS_DIR": str(DEPLOY / "plans"),
        }
        if service == "personnel":
            env |= PERSONNEL_BULK
        return env

    def count_in_logs(self, service: str, text: str) -> int:
        """Lines of the service's logs (all its replicas and starts) that hold ``text``."""
        paths = {p.log_path for p in self.processes if p.service == service}
        return sum(path.read_text(errors="replace").count(text) for path in paths if path.exists())

    def add(self, service: str) -> ServiceProcess:
        replica = sum(1 for p in self.processes if p.service == service) + 1
        log_path = self.logs / f"{self.names.run_id}-{service}-{replica}.log"
        process = ServiceProcess(service, replica, self.env(service), log_path)
        process.start()
        self.processes.append(process)
        return process

    def running(self, service: str) -> list[ServiceProcess]:
        return [p for p in self.processes if p.service == service and p.alive]

    def kill(self, process: ServiceProcess) -> None:
        process.kill()
        self.kills[process.service] += 1

    def restart(self, process: ServiceProcess) -> None:
        process.start()
        self.restarts[process.service] += 1

    def supervise(self) -> tuple[list[str], int]:
        """Restart any process that ended on its own (as a supervisor would). Returns the
        crashes of running processes, with their logs, and how many start-ups were refused
        (a service that cannot reach Kafka or the store while starting exits, and its
        supervisor starts it again: fail-fast, not a fault)."""
        crashes, refused = [], 0
        for process in self.processes:
            code = process.check()
            if code is None:
                continue
            tail = process.log_tail()
            if any(line in process.last_run_log() for line in STARTUP_FAILED):
                refused += 1
            else:
                crashes.append(f"{process.name} exited by itself with {code}:\n{tail}")
            self.restart(process)
        return crashes, refused

    def close(self) -> None:
        for process in self.processes:
            process.close()
