"""``parity report`` and ``parity export`` on bad arguments and an output folder they cannot
write: a clear error and exit 2, never a traceback (the store is replaced by a fake)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from rich.console import Console

from services.kit import cli
from services.kit.commands import export, report
from services.kit.console import EXIT_FAILED, EXIT_OK, Output
from services.reporting.history import Figure, UnitStatus
from services.reporting.source import Recommendation

RECORDS = [
    UnitStatus(
        "U-0001",
        1,
        datetime(2025, 6, 1, tzinfo=UTC),
        "UBND tỉnh",
        "province",
        None,
        True,
        {"female_key_leader_division_share": Figure(0.5, 5, 10)},
    )
]


async def fake_history(
    settings: object, as_of: date, *, with_recommendations: bool
) -> tuple[list[UnitStatus], list[Recommendation] | None]:
    return RECORDS, None


@pytest.fixture(autouse=True)
def no_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARITY_MONGODB_URL", "mongodb://127.0.0.1:1/")
    monkeypatch.setattr(export, "read_history", fake_history)
    monkeypatch.setattr(report, "read_history", fake_history)


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    output = Output(out=Console(file=out, width=300), err=Console(file=err, width=300))
    return cli.main(["--no-progress", *argv], output), out.getvalue(), err.getvalue()


REPORT = ("report", "--plan", "lang-son-dolisa-2022", "--as-of", "2025-11-14")


@pytest.mark.parametrize(
    "command",
    [("export", "--year", "2025"), (*REPORT, "--no-recommendations")],
    ids=["export", "report"],
)
def test_an_output_folder_that_cannot_be_written_is_a_clear_error(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("not a folder")
    code, _, err = run_cli(*command, "--out", str(taken))
    assert code == EXIT_FAILED
    assert f"cannot write into {taken}" in err
    assert "Traceback" not in err

    code, out, _ = run_cli(*command, "--out", str(tmp_path / "written"))
    assert code == EXIT_OK
    assert "written" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["export", "--year", "9999"],
        ["export", "--year", "0"],
        ["report", "--plan", "lang-son-dolisa-2022", "--as-of", "9999-12-31"],
        ["report", "--plan", "lang-son-dolisa-2022", "--as-of", "1899-12-31"],
    ],
)
def test_a_date_outside_the_plausible_years_is_a_usage_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == EXIT_FAILED
    assert "between 1900 and 2999" in capsys.readouterr().err
