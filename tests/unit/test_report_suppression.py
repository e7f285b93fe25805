"""Small-cell suppression of the open-data export, checked on every small value."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from services.reporting.history import Figure, UnitStatus
from services.reporting.opendata import COLUMNS, csv_text, export_rows, suppress

SMALL = range(13)


def figures() -> list[Figure]:
    counts = [Figure(float(n), n, None) for n in SMALL]
    shares = [Figure(None if d == 0 else n / d, n, d) for d in SMALL for n in SMALL if n <= d]
    return counts + shares


@pytest.mark.parametrize("threshold", range(8))
def test_nothing_below_the_threshold_is_released_and_nothing_else_is_withheld(
    threshold: int,
) -> None:
    for figure in figures():
        released = suppress(figure, threshold)
        below = [n for n in (figure.numerator, figure.denominator) if n is not None]
        if any(n < threshold for n in below):
            assert released.withheld, figure
            assert (released.numerator, released.denominator, released.value) == (None,) * 3
        else:
            assert not released.withheld, figure
            assert (released.numerator, released.denominator, released.value) == (
                figure.numerator,
                figure.denominator,
                figure.value,
            )


def test_the_default_threshold_withholds_shares_built_on_a_small_part_or_whole() -> None:
    assert suppress(Figure(4 / 10, 4, 10), 5).withheld  # small numerator
    assert suppress(Figure(4 / 4, 4, 4), 5).withheld  # small denominator
    assert suppress(Figure(0.0, 0, 12), 5).withheld  # zero is small
    assert not suppress(Figure(5 / 9, 5, 9), 5).withheld
    assert suppress(Figure(4.0, 4, None), 5).withheld  # a count
    assert not suppress(Figure(5.0, 5, None), 5).withheld


def test_a_negative_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        suppress(Figure(1.0, 1, None), -1)


def status(unit_id: str, parent: str | None, **figures: Figure) -> UnitStatus:
    return UnitStatus(
        unit_id,
        1,
        datetime(2025, 6, 1, tzinfo=UTC),
        f"Đơn vị {unit_id}",
        "division",
        parent,
        True,
        figures,
    )


def test_the_export_lists_every_active_unit_in_tree_order_with_its_cells_withheld() -> None:
    statuses = {
        "U-2": status("U-2", "U-1", female_staff_share=Figure(0.5, 3, 6)),
        "U-1": status("U-1", None, female_staff_share=Figure(0.6, 6, 10)),
        "U-3": UnitStatus(
            "U-3",
            2,
            datetime(2025, 1, 1, tzinfo=UTC),
            "Đã giải thể",
            "division",
            "U-1",
            False,
            {"female_staff_share": Figure(1.0, 9, 9)},
        ),
    }
    rows = export_rows(2025, statuses, threshold=5)
    assert [(r.status.unit_id, r.released.withheld) for r in rows] == [
        ("U-1", False),
        ("U-2", True),
    ]
    parsed = list(csv.DictReader(io.StringIO(csv_text(rows))))
    assert list(parsed[0]) == list(COLUMNS)
    assert (parsed[0]["numerator"], parsed[0]["denominator"], parsed[0]["value"]) == (
        "6",
        "10",
        "0.6",
    )
    assert (parsed[1]["numerator"], parsed[1]["value"], parsed[1]["withheld"]) == (
        "",
        "",
        "true",
    )
