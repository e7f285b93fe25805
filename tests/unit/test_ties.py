"""Which ties a person write adds before it (services/personnel/ties.py)."""

from __future__ import annotations

from services.personnel.ties import TieChange, ties_to_add

CHANGES: list[TieChange] = [
    ("P1", ["A", "D1"], None),  # new person
    ("P2", ["A", "D2"], ["A", "D1"]),  # transferred from D1 to D2
    ("P3", ["D1"], ["D1"]),  # unchanged ties
    ("P4", [], ["D1", "D9"]),  # no longer tied to anything
]


def test_ties_are_added_for_units_new_to_a_person() -> None:
    assert ties_to_add(CHANGES) == {"A": {"P1"}, "D1": {"P1"}, "D2": {"P2"}}
