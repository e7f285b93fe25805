"""``parity demo --file``: the summary comes from the lines that passed the check, so a bad
line is a rejected line (exit 1), never a crash or a generic read error."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from services.kit import cli
from services.kit.commands.demo import DEMO_FILE
from services.kit.console import EXIT_OK, EXIT_REJECTED, Output


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    output = Output(out=Console(file=out, width=300), err=Console(file=err, width=300))
    return cli.main(["--no-progress", *argv], output), out.getvalue(), err.getvalue()


def demo_lines(count: int) -> list[bytes]:
    with DEMO_FILE.open("rb") as stream:
        return [next(stream) for _ in range(count)]


@pytest.mark.parametrize(
    ("bad", "kind"),
    [
        (b"{not json\n", "invalid_json"),
        (b"[1, 2]\n", "invalid_json"),
        (b'"text"\n', "invalid_json"),
        (b'{"type": "hr.unit.registered", "time": 5}\n', "invalid_"),
    ],
)
def test_a_bad_line_is_a_rejected_line_and_the_summary_counts_the_good_ones(
    tmp_path: Path, bad: bytes, kind: str
) -> None:
    first, second = demo_lines(2)  # two unit registrations
    events = tmp_path / "demo.jsonl"
    events.write_bytes(first + bad + b"\n" + second)
    code, out, err = run_cli("demo", "--file", str(events), "--dry-run")
    assert code == EXIT_REJECTED
    assert f"rejected line 2: {kind}" in err
    assert "cannot read" not in err
    assert "accepted lines: 2" in out
    assert "units (province): 1" in out
    assert "units (agency): 1" in out
    assert "effective from: 2021-01-04T08:00:00+07:00" in out


def test_the_shipped_demo_checks_clean() -> None:
    code, out, err = run_cli("demo", "--dry-run")
    assert (code, err) == (EXIT_OK, "")
    assert "people: 261" in out
    assert "rejected lines: 0" in out
