"""How the inspections projections look in MongoDB (described in README.md).

Instants are RFC 3339 strings in UTC with microseconds (``shared.documents``), dates ISO
strings (YYYY-MM-DD), as in the personnel service: both sort as they compare and survive the
round trip exactly.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from services.inspections.domain.inspection import InspectionState
from services.inspections.domain.units import (
    Contribution,
    InspectionSummary,
    OpenItem,
    UnitFacts,
    UnitRollup,
    contributions,
    named_units,
)
from shared.documents import instant
from shared.internal import OpenRecommendation, UnitInspectionStatus

Document = dict[str, Any]


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _open_item(item: OpenItem) -> Document:
    return {
        "recommendation_id": item.recommendation_id,
        "inspection_id": item.inspection_id,
        "due": item.due.isoformat(),
        "overdue": item.overdue,
    }


def _open_item_from(doc: Document) -> OpenItem:
    return OpenItem(
        date.fromisoformat(doc["due"]),
        doc["inspection_id"],
        doc["recommendation_id"],
        doc["overdue"],
    )


def contribution_document(part: Contribution) -> Document:
    return {
        "unit_id": part.unit_id,
        "inspection_id": part.inspection_id,
        "planned_year": part.planned_year,
        "inspected_on": _day(part.inspected_on),
        "open_recommendations": [_open_item(r) for r in part.open_recommendations],
        "findings": [{"severity": s, "topic": t} for s, t in part.findings],
    }


def contribution_from_document(doc: Document) -> Contribution:
    return Contribution(
        unit_id=doc["unit_id"],
        inspection_id=doc["inspection_id"],
        planned_year=doc["planned_year"],
        inspected_on=_parse_day(doc["inspected_on"]),
        open_recommendations=tuple(_open_item_from(r) for r in doc["open_recommendations"]),
        findings=tuple((f["severity"], f["topic"]) for f in doc["findings"]),
    )


def inspection_fields(state: InspectionState, today: date) -> Document:
    """The derived part of an inspection document (everything but ``_id``, history, ``rev``)."""
    plan = state.plan
    return {
        "status": state.status,
        "title": plan.title if plan else None,
        "kind": plan.kind if plan else None,
        "scope": list(plan.scope) if plan else [],
        "unit_ids": list(plan.unit_ids) if plan else [],
        "lead_unit_id": plan.lead_unit_id if plan else None,
        "inter_sectoral": plan.inter_sectoral if plan else None,
        "planned_start": _day(plan.planned_start) if plan else None,
        "planned_end": _day(plan.planned_end) if plan else None,
        "planned_at": instant(state.planned_at),
        "started_at": instant(state.started_at),
        "closed_at": instant(state.closed_at),
        "cancelled_at": instant(state.cancelled_at),
        "conclusion": state.conclusion,
        "cancel_reason": state.cancel_reason,
        "findings": [{**asdict(f), "recorded_at": instant(f.recorded_at)} for f in state.findings],
        "recommendations": [
            {
                "recommendation_id": r.recommendation_id,
                "unit_id": r.unit_id,
                "finding_id": r.finding_id,
                "due": r.due.isoformat(),
                "status": r.status(today),
                "issued_at": instant(r.issued_at),
                "resolved_at": instant(r.resolved_at),
            }
            for r in state.recommendations
        ],
        "anomalies": [asdict(a) for a in state.anomalies],
        "named_units": list(named_units(state)),
        "contributions": [contribution_document(c) for c in contributions(state, today)],
        "next_event_due": instant(state.next_event_due),
        "next_due": instant(state.next_due),
    }


def recommendation_documents(
    state: InspectionState, today: date, inspection_rev: int
) -> list[Document]:
    """The ``recommendations`` collection's view of the inspection's recommendations."""
    return [
        {
            "_id": recommendation_key(state.inspection_id, r.recommendation_id),
            "inspection_id": state.inspection_id,
            "inspection_rev": inspection_rev,
            "inspection_status": state.status,
            "recommendation_id": r.recommendation_id,
            "unit_id": r.unit_id,
            "finding_id": r.finding_id,
            "summary": r.summary,
            "due": r.due.isoformat(),
            "status": r.status(today),
            "issued_at": instant(r.issued_at),
            "resolution": r.resolution,
            "resolved_at": instant(r.resolved_at),
        }
        for r in state.recommendations
    ]


def recommendation_key(inspection_id: str, recommendation_id: str) -> str:
    """Recommendation ids are the source's, unique within an inspection; "/" is in no id."""
    return f"{inspection_id}/{recommendation_id}"


def facts_document(facts: UnitFacts) -> Document:
    """The derived part of a unit's own-status document."""
    return {
        "inspections": [{"inspection_id": i, "planned_year": y} for i, y in facts.inspections],
        "inspected_years": facts.inspected_years,
        "last_inspected_on": _day(facts.last_inspected_on),
        "open_recommendations": [_open_item(r) for r in facts.open_recommendations],
        "findings_by_severity": dict(facts.findings_by_severity),
        "findings_by_topic": dict(facts.findings_by_topic),
    }


def facts_from_document(unit_id: str, doc: Document) -> UnitFacts:
    return UnitFacts(
        unit_id=unit_id,
        inspections=tuple((i["inspection_id"], i["planned_year"]) for i in doc["inspections"]),
        last_inspected_on=_parse_day(doc["last_inspected_on"]),
        open_recommendations=tuple(_open_item_from(r) for r in doc["open_recommendations"]),
        findings_by_severity=tuple(sorted(doc["findings_by_severity"].items())),
        findings_by_topic=tuple(sorted(doc["findings_by_topic"].items())),
    )


def unit_status(unit_id: str, revision: int, fields: Document) -> UnitInspectionStatus:
    """The published record of a unit's own status (``parity.unit.inspection_status``)."""
    return UnitInspectionStatus(
        unit_id=unit_id,
        revision=revision,
        open_recommendations=[
            OpenRecommendation.model_validate(r) for r in fields["open_recommendations"]
        ],
        inspected_years=list(fields["inspected_years"]),
    )


def _summary(summary: InspectionSummary) -> Document:
    return {
        "inspections_this_year": summary.inspections_this_year,
        "last_inspected_on": _day(summary.last_inspected_on),
        "open_recommendations": summary.open_recommendations,
        "overdue_recommendations": summary.overdue_recommendations,
        "findings_by_severity": dict(summary.findings_by_severity),
        "findings_by_topic": dict(summary.findings_by_topic),
    }


def rollup_document(rollup: UnitRollup) -> Document:
    """A ``unit_inspection_status`` document (``as_of`` is added when it is written)."""
    return {
        "_id": rollup.unit_id,
        "name": rollup.name,
        "level": rollup.level,
        "parent_id": rollup.parent_id,
        "active": rollup.active,
        "year": rollup.year,
        "own": _summary(rollup.own),
        "subtree": _summary(rollup.subtree),
        "divisions": rollup.divisions,
        "divisions_inspected": rollup.divisions_inspected,
    }
