"""How the personnel projections look in MongoDB (documented in services/personnel/README.md).

Instants are stored as RFC 3339 strings in UTC with microseconds, which sort as they
compare and survive the round trip exactly (BSON dates keep milliseconds only); event
histories as ``shared.documents`` stores them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from services.personnel.domain.people import PersonState
from services.personnel.domain.units import ParentDeclaration, Placement, UnitState
from shared.documents import instant, parse_instant

Document = dict[str, Any]


def _plain(value: Any) -> Any:
    """Dataclass fields as stored: instants as strings, tuples as lists."""
    if isinstance(value, datetime):
        return instant(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def person_fields(state: PersonState) -> Document:
    """The derived part of a person document (everything but ``_id``, history and ``rev``)."""
    fields: Document = _plain(asdict(state))
    del fields["person_id"]
    # Every unit whose change can change this person: a unit writer re-folds the people
    # tied to the units it writes. Not only those the person is in now: the merge of a
    # former home, dated before the transfer out of it, moves the person all the same.
    fields["tied_units"] = sorted(
        set(fields.pop("units_followed"))
        | {p["unit_id"] for p in fields["positions"]}
        | {p["unit_id"] for p in fields["planning_entries"]}
        | {a["unit_id"] for a in fields["appointments"]}
        | set(fields["pending_units"])
        | ({state.home_unit_id} if state.home_unit_id else set())
    )
    return fields


def unit_fields(state: UnitState, placement: Placement | None) -> Document:
    """The derived part of a unit document: its own fold and its place in the tree."""
    fields: Document = _plain(asdict(state))
    del fields["unit_id"]
    fields["parent_id"] = placement.parent_id if placement else None
    fields["path"] = list(placement.path) if placement else []
    fields["active"] = bool(placement and placement.active)
    fields["pending_parent"] = placement.pending_parent if placement else None
    # Anomalies of its place in the tree, which only the whole tree shows (a declared
    # parent refused as a cycle): published among the unit's anomalies.
    fields["placement_anomalies"] = _plain(
        [asdict(a) for a in placement.anomalies] if placement else []
    )
    return fields


def unit_states_from_documents(documents: Mapping[str, Document]) -> dict[str, UnitState]:
    """Every unit's state, by id, from its stored document (``unit_state_from_document``)."""
    return {unit_id: unit_state_from_document(doc) for unit_id, doc in documents.items()}


def unit_state_from_document(doc: Document) -> UnitState:
    def when(name: str) -> datetime | None:
        value = doc.get(name)
        return parse_instant(value) if value else None

    return UnitState(
        unit_id=doc["_id"],
        registered=doc.get("registered", False),
        name=doc.get("name"),
        level=doc.get("level"),
        declared_parent_id=doc.get("declared_parent_id"),
        valid_from=when("valid_from"),
        valid_to=when("valid_to"),
        closure=doc.get("closure"),
        merged_into=doc.get("merged_into"),
        next_due=when("next_due"),
        parent_declarations=tuple(
            ParentDeclaration(parse_instant(d["time"]), d["event_key"], d["parent_id"])
            for d in doc.get("parent_declarations", ())
        ),
    )
