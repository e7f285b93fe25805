"""The machine and the versions a run measured on, and per-process figures from /proc."""

from __future__ import annotations

import os
import platform
import re
from dataclasses import dataclass
from pathlib import Path

from pymongo import AsyncMongoClient

from shared.store import Document

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Machine:
    cpus: int
    memory_gib: float
    cpu_model: str
    python: str
    kafka: str
    ferretdb: str

    def lines(self) -> list[str]:
        return [
            f"machine: {self.cpus} CPUs ({self.cpu_model}), {self.memory_gib:.1f} GiB memory",
            f"versions: Python {self.python}, Apache Kafka {self.kafka}, FerretDB {self.ferretdb}",
        ]


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    match = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    return int(match.group(1)) / 1024**2 if match else 0.0


def kafka_version(root: Path) -> str:
    """The broker's version, from the jar deploy/kafka.sh put on its classpath."""
    libs = Path(os.environ.get("CACHE", root / ".cache")) / "kafka" / "libs"
    for jar in sorted(libs.glob("kafka_2.13-*.jar")):
        return jar.name.removeprefix("kafka_2.13-").removesuffix(".jar")
    return "unknown"


async def ferretdb_version(mongo: AsyncMongoClient[Document]) -> str:
    info = await mongo.admin.command("buildInfo")
    version = info.get("ferretdbVersion")
    return (
        f"{version} (MongoDB {info['version']} wire)" if version else f"MongoDB {info['version']}"
    )


async def describe(root: Path, mongo: AsyncMongoClient[Document]) -> Machine:
    return Machine(
        cpus=os.cpu_count() or 0,
        memory_gib=_memory_gib(),
        cpu_model=_cpu_model(),
        python=platform.python_version(),
        kafka=kafka_version(root),
        ferretdb=await ferretdb_version(mongo),
    )


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def peak_resident_mb(pid: int) -> float:
    """VmHWM: the process's peak resident set so far, in MB (10^6 bytes)."""
    match = re.search(r"^VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    if match is None:
        raise LookupError(f"no VmHWM for pid {pid}")
    return int(match.group(1)) * 1024 / 1e6


def infra_pids(data: Path | None) -> dict[str, int]:
    """The pids deploy/kafka.sh and deploy/ferretdb.sh recorded under DATA (if known)."""
    pids: dict[str, int] = {}
    if data is None:
        return pids
    for name in ("kafka", "ferretdb"):
        pid_file = data / "run" / f"{name}.pid"
        if pid_file.is_file() and pid_file.read_text().strip().isdigit():
            pids[name] = int(pid_file.read_text().strip())
    return pids


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all CPUs, all processes) since boot."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


OTHERS = "other processes on the machine"


class CpuMeter:
    """CPU seconds spent by some processes between ``start`` and ``stop``, and by everything
    else on the machine meanwhile (a shared machine: others' load slows the run down)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self._start: dict[str, float] = {}
        self._machine = 0.0

    def start(self) -> None:
        self._start = {name: cpu_seconds(pid) for name, pid in self._pids.items()}
        self._machine = machine_busy_seconds()

    def stop(self, extra: dict[str, float] | None = None) -> dict[str, float]:
        """CPU seconds by name; ``extra`` adds processes measured from their own start."""
        used = {
            name: cpu_seconds(pid) - self._start.get(name, 0.0) for name, pid in self._pids.items()
        }
        used.update(extra or {})
        used[OTHERS] = max(0.0, machine_busy_seconds() - self._machine - sum(used.values()))
        return used
