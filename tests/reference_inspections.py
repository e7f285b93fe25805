"""An independent, brute-force recomputation of the inspection indicators of the contract's
section 5: ``units_inspected_share_ytd``, ``open_recommendations``, ``overdue_recommendations``.

Like :mod:`tests.reference`, it is written from the contract's words alone and shares no
code with the services: it reads the events (``inspections.v1`` for the inspections, the
HR topics through :func:`tests.reference.replay` for the unit tree). Where the contract
leaves room, this is the reading taken (the services must agree; see
services/inspections/README.md):

1. Redeliveries: of the events with valid data, the first arrival of each (source, id) is
   kept. Events with ``time`` after ``now`` have not happened.
2. An inspection's events are ordered by (time, sequence, arrival), an event without a
   ``sequence`` after those with one at the same time. An inspection with no
   ``inspection.planned`` in effect counts nowhere. Otherwise its first plan comes first,
   then the events before it (in their order), then the rest.
3. ``inspection.recommendation_resolved`` resolves a recommendation already issued and not
   yet resolved, at any time (after closure or cancellation too); one not issued yet is
   resolved when it is issued (if it is); otherwise it changes nothing. After ``closed``
   or ``cancelled`` every other event changes nothing. A second issue of the same
   recommendation id changes nothing. A later plan replaces the units
   and dates.
4. ``cancelled`` withdraws the unresolved recommendations: they count nowhere, and the
   inspection covers no unit.
5. A recommendation is unresolved until resolved and counts for its ``unit_id`` (inspected
   or not); overdue when its ``due`` is before today in Asia/Ho_Chi_Minh.
6. ``units_inspected_share_ytd``: active ``division`` units of the subtree among the
   ``unit_ids`` of an inspection not cancelled whose ``planned_start`` is in now's local
   calendar year (an inspection closed or still only planned counts) / active divisions.
7. Units are those of :func:`tests.reference.replay`: the subtree of a unit is the set of
   open units whose chain (``parent_id`` links as they stand now) contains it; counts
   cover open units only (a recommendation to a closed unit counts nowhere).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shared.clock import VIETNAM
from shared.contract import INSPECTIONS_TOPIC
from shared.envelope import CloudEvent
from tests.reference import World, replay, taking_effect

INDICATOR_IDS = ("units_inspected_share_ytd", "open_recommendations", "overdue_recommendations")


@dataclass
class Recommendation:
    unit_id: str
    due: date
    resolved: bool = False
    withdrawn: bool = False


@dataclass
class Inspection:
    status: str  # planned, started, closed or cancelled
    unit_ids: list[str]
    planned_start: date
    recommendations: dict[str, Recommendation] = field(default_factory=dict)


def inspections(events: list[CloudEvent], now: datetime) -> dict[str, Inspection]:
    """Every inspection with a plan in effect at ``now``, folded from the events."""
    by_subject: dict[str, list[tuple[tuple[Any, ...], str, Any]]] = {}
    for arrival, sequence, _, event, data in taking_effect(events, (INSPECTIONS_TOPIC,), now):
        key = (event.time, sequence, arrival)
        by_subject.setdefault(event.subject, []).append((key, event.type, data))
    result = {}
    for subject, entries in by_subject.items():
        entries.sort(key=lambda e: e[0])
        plans = [i for i, (_, type_, _) in enumerate(entries) if type_ == "inspection.planned"]
        if not plans:
            continue
        first = plans[0]
        ordered = [entries[first], *entries[:first], *entries[first + 1 :]]
        result[subject] = _fold([(type_, data) for _, type_, data in ordered])
    return result


def _fold(entries: list[tuple[str, Any]]) -> Inspection:
    _, plan = entries[0]
    inspection = Inspection("planned", list(plan.unit_ids), plan.planned_start)
    resolved_early: set[str] = set()
    for type_, data in entries[1:]:
        if type_ == "inspection.recommendation_resolved":
            known = inspection.recommendations.get(data.recommendation_id)
            if known is None:
                resolved_early.add(data.recommendation_id)
            elif not known.resolved:
                known.resolved = True
        elif inspection.status in ("closed", "cancelled"):
            continue
        elif type_ == "inspection.planned":
            inspection.unit_ids, inspection.planned_start = list(data.unit_ids), data.planned_start
        elif type_ == "inspection.started":
            inspection.status = "started"
        elif type_ == "inspection.recommendation_issued":
            if data.recommendation_id not in inspection.recommendations:
                inspection.recommendations[data.recommendation_id] = Recommendation(
                    data.unit_id, data.due, resolved=data.recommendation_id in resolved_early
                )
        elif type_ == "inspection.closed":
            inspection.status = "closed"
        elif type_ == "inspection.cancelled":
            inspection.status = "cancelled"
            for recommendation in inspection.recommendations.values():
                recommendation.withdrawn = not recommendation.resolved
    return inspection


def indicators(
    events: list[CloudEvent], now: datetime, world: World | None = None
) -> dict[str, dict[str, tuple[int, int | None]]]:
    """unit_id -> indicator id -> (numerator, denominator) for every active unit."""
    world = world if world is not None else replay(events, now)
    local_now = now.astimezone(VIETNAM)
    year, today = local_now.year, local_now.date()
    found = inspections(events, now)
    open_units = {u for u, unit in world.units.items() if not unit.closed}
    covered = {
        unit_id
        for inspection in found.values()
        if inspection.status != "cancelled" and inspection.planned_start.year == year
        for unit_id in inspection.unit_ids
    }
    unresolved = [
        r
        for inspection in found.values()
        for r in inspection.recommendations.values()
        if not r.resolved and not r.withdrawn
    ]
    subtree: dict[str, set[str]] = {u: set() for u in open_units}
    for unit_id in open_units:
        for ancestor in world.chain(unit_id):
            if ancestor in subtree:
                subtree[ancestor].add(unit_id)
    result: dict[str, dict[str, tuple[int, int | None]]] = {}
    for unit_id in open_units:
        units = subtree[unit_id]
        divisions = {u for u in units if world.units[u].level == "division"}
        mine = [r for r in unresolved if r.unit_id in units]
        result[unit_id] = {
            "units_inspected_share_ytd": (len(divisions & covered), len(divisions)),
            "open_recommendations": (len(mine), None),
            "overdue_recommendations": (sum(1 for r in mine if r.due < today), None),
        }
    return result
