"""Inspections (thanh tra, kiểm tra, giám sát) of the generated province, on ``inspections.v1``.

A few inspections a year over the simulated years cover divisions and agencies open at the
time: plan, start, findings, recommendations (some resolved, some open, some overdue at
``now``, some due later), closure; some are cancelled, a few decisions take effect after
``now``. The records carry the same disorder as the HR stream (redeliveries, backdated
events, a plan arriving after its findings, poison, both Kafka bindings) and, with
``anomalies``, two source mistakes (a second resolution, a finding after closure). The
inspections draw from their own random stream, so the HR records are the same with or
without them; :class:`InspectionLedger` is what the generator itself knows happened.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from shared.clock import VIETNAM
from tests.generator.inspection_stream import SOURCE, disorder
from tests.generator.model import ProvinceShape, Record
from tests.generator.state import Draft, ProvinceState

TOPICS = ("planning", "appointment", "training", "assignment", "gender_mainstreaming", "other")


@dataclass
class LedgerRecommendation:
    inspection_id: str
    unit_id: str
    due: date
    issued_at: datetime
    resolved_at: datetime | None = None


@dataclass
class LedgerInspection:
    unit_ids: list[str]
    planned_at: datetime
    planned_start: date
    cancelled_at: datetime | None = None


@dataclass
class InspectionLedger:
    """What the generator made happen, effective times included (redeliveries aside)."""

    inspections: dict[str, LedgerInspection] = field(default_factory=dict)
    recommendations: dict[tuple[str, str], LedgerRecommendation] = field(default_factory=dict)

    def unresolved(self, now: datetime) -> list[LedgerRecommendation]:
        """Recommendations in effect at ``now``, unresolved, of inspections not cancelled."""
        result = []
        for rec in self.recommendations.values():
            inspection = self.inspections[rec.inspection_id]
            cancelled = inspection.cancelled_at is not None and inspection.cancelled_at <= now
            resolved = rec.resolved_at is not None and rec.resolved_at <= now
            if (
                rec.issued_at <= now
                and inspection.planned_at <= now
                and not (cancelled or resolved)
            ):
                result.append(rec)
        return result


class _Writer:
    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng, self.now = rng, now
        self.drafts: list[Draft] = []
        self.ledger = InspectionLedger()

    def emit(self, at: datetime, type_: str, subject: str, data: dict[str, Any]) -> None:
        self.drafts.append(Draft(at, type_, subject, data, SOURCE, len(self.drafts)))


def _open_between(drafts: list[Draft]) -> dict[str, tuple[datetime, datetime]]:
    """unit -> (registered at, closed at or far future), from the HR system's own events."""
    span: dict[str, tuple[datetime, datetime]] = {}
    end = datetime(9999, 1, 1, tzinfo=VIETNAM)
    for draft in drafts:
        if draft.type == "hr.unit.registered" and draft.subject not in span:
            span[draft.subject] = (draft.time, end)
        elif draft.type in ("hr.unit.merged", "hr.unit.dissolved") and draft.subject in span:
            span[draft.subject] = (span[draft.subject][0], draft.time)
    return span


def _plan_one(
    w: _Writer,
    state: ProvinceState,
    spans: dict[str, tuple[datetime, datetime]],
    root: str,
    number: int,
    planned_at: datetime,
    anomalies: bool,
) -> None:
    rng = w.rng
    start = planned_at.astimezone(VIETNAM).date() + timedelta(days=rng.randint(10, 60))
    end = start + timedelta(days=rng.randint(10, 30))
    until = datetime.combine(end + timedelta(days=60), time(), tzinfo=VIETNAM)

    def open_(u: str) -> bool:
        return u in spans and spans[u][0] <= planned_at and spans[u][1] > until

    agencies = [u.unit_id for u in state.units.values() if u.level == "agency" and open_(u.unit_id)]
    if not agencies:
        return
    agency = rng.choice(agencies)
    divisions = [c for c in state.subtree(agency) if state.units[c].level == "division"]
    divisions = [d for d in divisions if open_(d)]
    units = rng.sample(divisions, min(len(divisions), rng.randint(1, 4)))
    if rng.random() < 0.4 or not units:
        units.insert(0, agency)
    inter_sectoral = rng.random() < 0.2 and len(agencies) > 1
    if inter_sectoral:
        other = rng.choice([a for a in agencies if a != agency])
        extra = [d for d in state.subtree(other) if state.units[d].level == "division" and open_(d)]
        units.append(rng.choice(extra) if extra else other)
    inspection_id = f"TT-{start.year}-{number:03d}"
    scope = rng.sample(TOPICS[:5], rng.randint(1, 3))
    data = {
        "inspection_id": inspection_id,
        "title": f"Kiểm tra thực hiện công tác bình đẳng giới năm {start.year}",
        "kind": rng.choice(("inspection", "examination", "supervision")),
        "scope": scope,
        "unit_ids": units,
        "lead_unit_id": root,
        "inter_sectoral": inter_sectoral,
        "planned_start": start.isoformat(),
        "planned_end": end.isoformat(),
    }
    w.emit(planned_at, "inspection.planned", inspection_id, data)
    w.ledger.inspections[inspection_id] = LedgerInspection(units, planned_at, start)
    started = datetime.combine(start, time(8), tzinfo=VIETNAM)
    if rng.random() < 0.1:  # cancelled before it starts (hoãn, trùng kế hoạch)
        at = planned_at + (started - planned_at) * rng.uniform(0.2, 0.9)
        w.emit(at, "inspection.cancelled", inspection_id, {"reason": "Trùng kế hoạch thanh tra"})
        w.ledger.inspections[inspection_id].cancelled_at = at
        return
    w.emit(started, "inspection.started", inspection_id, {})
    closing = datetime.combine(end + timedelta(days=rng.randint(3, 20)), time(16), tzinfo=VIETNAM)
    findings = 0
    for unit_id in units:
        for _ in range(rng.choice((0, 1, 1, 2))):
            findings += 1
            finding_id = f"{inspection_id}-F{findings}"
            found_at = started + (closing - started) * rng.uniform(0.05, 0.5)
            topic = rng.choice(scope)
            severity = rng.choice(("info", "minor", "minor", "major"))
            w.emit(
                found_at,
                "inspection.finding_recorded",
                inspection_id,
                {
                    "finding_id": finding_id,
                    "unit_id": unit_id,
                    "severity": severity,
                    "topic": topic,
                    "summary": "Chưa bảo đảm tỷ lệ nữ theo kế hoạch",
                },
            )
            if rng.random() < 0.6:
                _recommend(w, inspection_id, finding_id, unit_id, found_at, closing, end)
    w.emit(closing, "inspection.closed", inspection_id, {"conclusion": "Cơ bản thực hiện đúng"})
    if anomalies and rng.random() < 0.08:  # a finding recorded after closure: not applied
        late = closing + timedelta(days=rng.randint(1, 10))
        w.emit(
            late,
            "inspection.finding_recorded",
            inspection_id,
            {
                "finding_id": f"{inspection_id}-F99",
                "unit_id": units[0],
                "severity": "minor",
                "topic": scope[0],
                "summary": "Ghi nhận sau kết luận",
            },
        )


def _recommend(
    w: _Writer,
    inspection_id: str,
    finding_id: str,
    unit_id: str,
    found_at: datetime,
    closing: datetime,
    end: date,
) -> None:
    rng = w.rng
    rec_id = f"{finding_id}-KN"
    issued = found_at + (closing - found_at) * rng.uniform(0.3, 0.9)
    due = end + timedelta(days=rng.randint(30, 240))
    w.emit(
        issued,
        "inspection.recommendation_issued",
        inspection_id,
        {
            "recommendation_id": rec_id,
            "unit_id": unit_id,
            "finding_id": finding_id,
            "summary": "Bổ sung nữ vào quy hoạch",
            "due": due.isoformat(),
        },
    )
    entry = LedgerRecommendation(inspection_id, unit_id, due, issued)
    w.ledger.recommendations[(inspection_id, rec_id)] = entry
    if rng.random() < 0.55:
        resolved = issued + timedelta(days=rng.uniform(10, 300))
        w.emit(
            resolved,
            "inspection.recommendation_resolved",
            inspection_id,
            {
                "recommendation_id": rec_id,
                "resolution": "Đã bổ sung quy hoạch",
            },
        )
        entry.resolved_at = resolved
        if rng.random() < 0.1:  # the source sends a second resolution: the first stands
            again = resolved + timedelta(days=rng.randint(1, 30))
            w.emit(
                again,
                "inspection.recommendation_resolved",
                inspection_id,
                {
                    "recommendation_id": rec_id,
                    "resolution": "Báo cáo lại",
                },
            )


def inspection_records(
    state: ProvinceState,
    shape: ProvinceShape,
    *,
    seed: int,
    namespace: uuid.UUID,
    live: datetime,
    now: datetime,
    root_id: str,
) -> tuple[list[tuple[float, Record]], InspectionLedger]:
    """The inspection records with their arrival times, and the ledger."""
    rng = random.Random(f"inspections/{seed}")
    w = _Writer(rng, now)
    spans = _open_between(state.drafts)
    local_now = now.astimezone(VIETNAM)
    for year in range(live.astimezone(VIETNAM).year, local_now.year + 1):
        low = max(live + timedelta(days=2), datetime(year, 1, 5, 8, tzinfo=VIETNAM))
        high = min(now + timedelta(days=20), datetime(year, 10, 31, 17, tzinfo=VIETNAM))
        count = rng.randint(3, 5) if year == local_now.year else rng.randint(2, 4)
        for number in range(1, count + 1):
            if low < high:
                at = (low + (high - low) * rng.random()).replace(second=0, microsecond=0)
                _plan_one(w, state, spans, root_id, number, at, shape.anomalies)
    at = (now - timedelta(days=rng.uniform(1, 5))).replace(second=0, microsecond=0)
    _plan_one(w, state, spans, root_id, 900, at, shape.anomalies)  # starts after now
    return disorder(w.drafts, w.rng, shape, namespace, now), w.ledger
