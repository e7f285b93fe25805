"""Where the time goes: store commands in flight (in-process runs) and py-spy samples of the
service processes (process runs)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pymongo import monitoring

CommandEvent = (
    monitoring.CommandStartedEvent
    | monitoring.CommandSucceededEvent
    | monitoring.CommandFailedEvent
)


# The write commands, with the field of each that lists the documents it writes.
WRITTEN = {"insert": "documents", "update": "updates", "delete": "deletes"}
# The read commands, with the field of each that names its collection.
READ = {"find": "find", "getMore": "collection", "aggregate": "aggregate", "count": "count"}


class StoreBusy(monitoring.CommandListener):
    """Wall time with at least one store command in flight (the union of the commands'
    intervals), the commands by name with their summed durations, and the documents each
    service's collections were sent to write (``<service>.<collection>``, the service being
    the last word of the database's name, as the bench names them), and the seconds reads of
    each collection were in flight.

    Registered globally (``monitoring.register``) before the services create their clients;
    counts only the commands that end between ``start()`` and ``stop()``."""

    def __init__(self) -> None:
        self.recording = False
        self.commands: Counter[str] = Counter()
        self.command_seconds: defaultdict[str, float] = defaultdict(float)
        self.written: Counter[str] = Counter()
        self.read_seconds: defaultdict[str, float] = defaultdict(float)
        self._intervals: list[tuple[float, float]] = []
        # a command in flight -> when it started, and the collection it reads (if a read)
        self._started: dict[tuple[int, int, object], tuple[float, str | None]] = {}

    def start(self) -> None:
        self.recording = True
        self.commands.clear()
        self.command_seconds.clear()
        self.written.clear()
        self.read_seconds.clear()
        self._intervals = []

    def stop(self) -> float:
        """Seconds with a command in flight since ``start()``."""
        self.recording = False
        busy, reach = 0.0, float("-inf")
        for began, ended in sorted(self._intervals):
            if ended > reach:
                busy += ended - max(began, reach)
                reach = ended
        return busy

    @staticmethod
    def _key(event: CommandEvent) -> tuple[int, int, object]:
        return (event.request_id, event.operation_id or 0, event.connection_id)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        service = event.database_name.rsplit("_", 1)[-1]
        names = READ.get(event.command_name)
        read = f"{service}.{event.command.get(names)}" if names is not None else None
        self._started[self._key(event)] = (time.perf_counter(), read)
        field = WRITTEN.get(event.command_name)
        if field is not None and self.recording:
            collection = event.command[event.command_name]
            self.written[f"{service}.{collection}"] += len(event.command.get(field, ()))

    def _ended(self, event: CommandEvent) -> None:
        ended = time.perf_counter()
        start = self._started.pop(self._key(event), None)
        if start is None or not self.recording:
            return
        began, read = start
        self._intervals.append((began, ended))
        self.commands[event.command_name] += 1
        self.command_seconds[event.command_name] += ended - began
        if read is not None:
            self.read_seconds[read] += ended - began

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._ended(event)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._ended(event)


@dataclass
class Sampler:
    """``py-spy record --nonblocking`` attached to one process, collapsed stacks to a file."""

    pid: int
    output: Path
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.output.with_suffix(".log")

    def start(self) -> bool:
        beside = Path(sys.executable).parent / "py-spy"  # the virtualenv's, without activation
        executable = str(beside) if beside.is_file() else shutil.which("py-spy")
        if executable is None:
            return False
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    executable,
                    "record",
                    "--nonblocking",
                    "--format",
                    "raw",
                    "--rate",
                    "50",
                    "--pid",
                    str(self.pid),
                    "--output",
                    str(self.output),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return True

    def stop(self, *, now: bool = False) -> None:
        """py-spy writes its file when the sampled process exits, or on SIGINT: sent at
        once with ``now`` (the process goes on), after 20 s without."""
        if self.process is None or self.process.poll() is not None:
            return
        if now:
            self.process.send_signal(2)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.send_signal(2)
            self.process.wait(timeout=20)


# Frames that tell where a sample was: the first match from the leaf up names the bucket.
BUCKETS = (
    ("bson / pymongo (store client)", ("bson", "pymongo")),
    ("aiokafka (Kafka client)", ("aiokafka", "kafka/")),
    ("pydantic (validation, JSON)", ("pydantic",)),
    ("faststream", ("faststream",)),
    ("Parity services' code", ("services/",)),
    ("Parity shared code", ("shared/",)),
    ("asyncio event loop", ("asyncio",)),
)


def where_time_goes(collapsed: Path) -> dict[str, float]:
    """Share of samples per bucket, by the innermost frame that names one."""
    totals: Counter[str] = Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        bucket = "other (interpreter, stdlib)"
        for frame in reversed(frames):
            named = next((b for b, marks in BUCKETS if any(m in frame for m in marks)), None)
            if named is not None:
                bucket = named
                break
        totals[bucket] += int(count)
    samples = sum(totals.values())
    return {b: n / samples for b, n in totals.most_common()} if samples else {}
