"""`parity publish`: each line checked with the consumers' decoder; the CLI's exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from services.kit import cli
from services.kit.console import EXIT_FAILED, EXIT_OK, EXIT_REJECTED, Output
from services.kit.lines import check_line
from services.kit.records import OutboundRecord, Rejection
from shared.contract import INSPECTIONS_TOPIC, PERSONNEL_TOPIC, UNITS_TOPIC
from shared.envelope import encode_structured
from tests import events as ev


def line(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode() + b"\n"


def as_dict(value: bytes) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(value)
    return parsed


PERSON = as_dict(encode_structured(ev.person_registered("P-1", "U-1"))[0])
UNIT = as_dict(encode_structured(ev.unit_registered("U-1", None, "province"))[0])


def test_a_valid_line_goes_to_its_types_topic_keyed_by_subject() -> None:
    record = check_line(1, line(PERSON))
    assert isinstance(record, OutboundRecord)
    assert (record.topic, record.key, record.event_type) == (
        PERSONNEL_TOPIC,
        b"P-1",
        "hr.person.registered",
    )
    assert record.value == line(PERSON).strip()  # the exact bytes the source wrote
    unit = check_line(2, line(UNIT))
    assert isinstance(unit, OutboundRecord)
    assert (unit.topic, unit.key) == (UNITS_TOPIC, b"U-1")
    inspection = {**UNIT, "type": "inspection.started", "subject": "I-1", "data": {}}
    started = check_line(3, line(inspection))
    assert isinstance(started, OutboundRecord)
    assert started.topic == INSPECTIONS_TOPIC


@pytest.mark.parametrize(
    ("raw", "kind", "words"),
    [
        (b"{not json", "invalid_json", "not valid JSON"),
        (b"[1, 2]", "invalid_json", "not a JSON object"),
        (line({**PERSON, "type": "hr.person.promoted"}), "unknown_type", "hr.person.promoted"),
        (line({k: v for k, v in PERSON.items() if k != "type"}), "invalid_envelope", "type"),
        (line({k: v for k, v in PERSON.items() if k != "id"}), "invalid_envelope", "id"),
        (line({**PERSON, "time": "2024-01-01T08:00:00"}), "invalid_envelope", "time"),
        (line({**PERSON, "data": {**PERSON["data"], "gender": "x"}}), "invalid_data", "gender"),
        (line({**PERSON, "subject": "P-2"}), "invalid_data", "differs from data.person_id"),
        (b'{"type": "hr.person.left", "pad": "' + b"x" * (1024 * 1024) + b'"}', "too_large",
         "1 MiB"),
    ],
)  # fmt: skip
def test_a_bad_line_is_rejected_with_the_consumers_reason(
    raw: bytes, kind: str, words: str
) -> None:
    rejection = check_line(7, raw)
    assert isinstance(rejection, Rejection)
    assert rejection.where == "line 7"
    assert rejection.reason.startswith(f"{kind}: ")
    assert words in rejection.reason


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    output = Output(out=Console(file=out, width=200), err=Console(file=err, width=200))
    code = cli.main(list(argv), output)
    return code, out.getvalue(), err.getvalue()


def test_dry_run_with_only_good_lines_exits_0(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(line(UNIT) + b"\n" + line(PERSON))
    code, out, err = run_cli("publish", str(events), "--dry-run")
    assert code == EXIT_OK
    assert "accepted lines: 2" in out
    assert "rejected lines: 0" in out
    assert err == ""


def test_dry_run_with_bad_lines_reports_each_and_exits_1(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(line(PERSON) + b"oops\n" + line({**PERSON, "type": "nope"}))
    code, out, err = run_cli("--no-progress", "publish", str(events), "--dry-run")
    assert code == EXIT_REJECTED
    assert "accepted lines: 1" in out
    assert "rejected line 2: invalid_json" in err
    assert "rejected line 3: unknown_type" in err


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    code, _, err = run_cli("publish", str(tmp_path / "absent.jsonl"), "--dry-run")
    assert code == EXIT_FAILED
    assert "cannot read" in err


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["publish"])
    assert exit_info.value.code == EXIT_FAILED
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["import", "roster.xlsx", "--as-of", "soon"])
    assert exit_info.value.code == EXIT_FAILED


def test_every_command_module_is_discovered() -> None:
    assert {command.name for command in cli.discover()} >= {"publish", "import"}
