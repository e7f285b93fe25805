"""The units sheet: rows read, checked against each other, and put parent before child.

Pure. A unit is refused when its own row is wrong, or when its parent is neither an
accepted unit of the sheet nor a ``--known-unit`` (a unit Parity already has); a refused
parent refuses its whole subtree, so nothing published ever points at a unit that was not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.kit.roster import cells
from services.kit.roster.cells import CellError
from services.kit.roster.sheets import SheetRow
from shared.contract import UnitLevel


@dataclass(frozen=True, slots=True)
class UnitRow:
    row: int
    unit_id: str
    name: str
    parent_id: str | None
    level: UnitLevel


@dataclass(frozen=True, slots=True)
class UnitProblem:
    row: int
    unit_id: str
    reason: str


def read_unit(row: SheetRow) -> UnitRow:
    """One row's own content; raises CellError listing every problem of the row."""
    problems = []
    unit_id, name = row.get("unit_id"), row.get("name")
    if not unit_id:
        problems.append("unit_id: empty")
    if not name:
        problems.append("name: empty")
    try:
        unit_level = cells.level(row.get("level"))
    except CellError as error:
        problems.append(str(error))
    if problems:
        raise CellError("; ".join(problems))
    return UnitRow(row.number, unit_id, name, row.get("parent_id") or None, unit_level)


def order_units(
    rows: Sequence[UnitRow],
    known_units: frozenset[str],
    refused: Mapping[str, int],
) -> tuple[list[UnitRow], list[UnitProblem]]:
    """Accepted units in parent-before-child order (sheet order among siblings), and the
    refused ones with their reasons. ``rows`` have distinct ids; ``refused`` maps the ids of
    rows already refused to their row numbers."""
    candidates = {unit.unit_id: unit for unit in rows}
    verdicts: dict[str, str | None] = {}  # unit id -> None when accepted, else the reason

    def verdict(unit_id: str, chain: tuple[str, ...]) -> str | None:
        if unit_id in verdicts:
            return verdicts[unit_id]
        parent = candidates[unit_id].parent_id
        reason: str | None = None
        if parent is None:
            reason = None
        elif parent in chain or parent == unit_id:
            reason = "parent chain loops: " + " → ".join((*chain, unit_id, parent))
        elif parent in candidates:
            if verdict(parent, (*chain, unit_id)) is not None:
                reason = f"parent {parent} is refused (units row {candidates[parent].row})"
        elif parent in refused:
            reason = f"parent {parent} is refused (units row {refused[parent]})"
        elif parent not in known_units:
            reason = f"parent {parent} is not in the units sheet nor given with --known-unit"
        verdicts[unit_id] = reason
        return reason

    accepted: list[UnitRow] = []
    problems: list[UnitProblem] = []
    placed: set[str] = set()

    def place(unit: UnitRow) -> None:
        if unit.unit_id in placed:
            return
        if unit.parent_id in candidates:
            place(candidates[unit.parent_id])
        placed.add(unit.unit_id)
        accepted.append(unit)

    for unit in rows:
        reason = verdict(unit.unit_id, ())
        if reason is None:
            place(unit)
        else:
            problems.append(UnitProblem(unit.row, unit.unit_id, reason))
    return accepted, problems
