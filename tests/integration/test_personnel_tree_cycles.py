"""A move that would make a unit its own ancestor, on the real FerretDB: refused, the
place before it stands, and the refusal is the unit's anomaly, stored, published with the
unit and counted once, whether the unit is the subject of the batch or only moved by it."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient

from services.personnel.store import PersonnelStore
from services.personnel.unit_handlers import apply_unit_events
from shared.contract import UNITS_TOPIC
from shared.internal import UnitChanged
from shared.store import Document
from tests import events as ev
from tests.integration.personnel_wiring import ListSink, collaborators
from tests.integration.personnel_wiring import inbound as decoded


def published(sink: ListSink, unit_id: str) -> list[dict[str, Any]]:
    return [c.data for c in sink.changes if c.subject == unit_id and "path" in c.data]


async def test_a_move_under_its_own_descendant_is_refused_and_kept_as_an_anomaly(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    db = mongo[database_name]
    sink = ListSink()
    deps = collaborators(PersonnelStore(db), sink)
    tree = [
        ev.unit_registered("P", None, "province", day=-100),
        ev.unit_registered("A", "P", "agency", day=-100),
        ev.unit_registered("D1", "A", day=-100),
        ev.unit_registered("X", None, "agency", day=-100),
    ]
    await apply_unit_events(decoded(UNITS_TOPIC, tree), deps=deps)
    under_its_child = ev.unit_updated("A", day=-10, parent_id="D1")
    await apply_unit_events(decoded(UNITS_TOPIC, [under_its_child]), deps=deps)

    units = {d["_id"]: d async for d in db["units"].find()}
    assert units["A"]["path"] == ["P"]
    assert units["D1"]["path"] == ["P", "A"]
    refused = {
        "kind": "parent_cycle",
        "event_key": decoded(UNITS_TOPIC, [under_its_child])["A"][0].key,
    }
    assert [
        {k: a[k] for k in ("kind", "event_key")} for a in units["A"]["placement_anomalies"]
    ] == [refused]
    change = published(sink, "A")[-1]
    assert [a["kind"] for a in change["anomalies"]] == ["parent_cycle"]
    assert "placement_anomalies" not in change
    assert (
        deps.metrics.registry.get_sample_value(
            "parity_personnel_anomalies_total", {"kind": "parent_cycle"}
        )
        == 1.0
    )

    # A backdated move of X under A, before A's move under X: A's move is refused now, and
    # A is not the subject of this batch
    await apply_unit_events(
        decoded(UNITS_TOPIC, [ev.unit_updated("A", day=-5, parent_id="X")]), deps=deps
    )
    units = {d["_id"]: d async for d in db["units"].find()}
    assert units["A"]["path"] == ["X"]
    await apply_unit_events(
        decoded(UNITS_TOPIC, [ev.unit_updated("X", day=-8, parent_id="A")]), deps=deps
    )
    units = {d["_id"]: d async for d in db["units"].find()}
    assert units["X"]["path"] == ["P", "A"]
    assert units["A"]["path"] == ["P"]
    assert [a["kind"] for a in units["A"]["placement_anomalies"]] == ["parent_cycle"] * 2
    latest = UnitChanged.model_validate(published(sink, "A")[-1])
    assert latest.path == ["P"]
    assert len(latest.anomalies) == 2
    assert (
        deps.metrics.registry.get_sample_value(
            "parity_personnel_anomalies_total", {"kind": "parent_cycle"}
        )
        == 2.0
    )
