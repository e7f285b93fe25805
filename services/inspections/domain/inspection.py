"""One inspection (thanh tra, kiểm tra, giám sát): the fold of its events into its state.

The fold takes the inspection's whole history and "now" and returns its state; it is run
again from the start whenever an event arrives, so a late or backdated event is put in its
place (contract section 3). Wrong orders have these outcomes (see README.md):

- Events before the first ``inspection.planned`` in effective order wait for it: with no
  plan in effect the inspection is ``pending`` and counts nowhere (each waiting event is an
  ``inspection_not_planned`` anomaly); once a plan is in effect they are applied right after
  it, and those whose time is before the plan's are ``event_before_planned`` anomalies.
- A finding or recommendation for a unit not among ``unit_ids`` is applied and recorded as
  ``unit_not_inspected``; one for an unknown finding as ``unknown_finding``.
- Findings and recommendations issued after ``closed`` or ``cancelled``, and ``started``,
  ``planned``, ``closed`` or ``cancelled`` after either, are ``event_after_closure`` and not
  applied. ``recommendation_resolved`` after closure is applied (follow-up is normal).
- A second resolution is ``resolved_twice`` (the first stands); resolving an unknown
  recommendation is ``unknown_recommendation`` (if its issue later arrives with an earlier
  time, the re-fold applies the resolution; if its issue has a later time, the
  recommendation is resolved as it is issued, and the anomaly stays). A repeated finding
  or recommendation id, a second start, close or cancel are anomalies and the first
  stands.
- Cancelling withdraws the open recommendations: they count nowhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from shared.clock import VIETNAM, local_date
from shared.history import HistoryEntry, in_effect, next_due

Status = Literal["pending", "planned", "started", "closed", "cancelled"]
RecommendationStatus = Literal["open", "overdue", "resolved", "withdrawn"]
STATUSES: tuple[Status, ...] = ("pending", "planned", "started", "closed", "cancelled")
COUNTED: frozenset[Status] = frozenset({"planned", "started", "closed"})
PLANNED = "inspection.planned"


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A data-quality problem of the source system, kept beside the data."""

    kind: str
    event_key: str
    detail: str


@dataclass(frozen=True, slots=True)
class Plan:
    title: str
    kind: str  # inspection (thanh tra), examination (kiểm tra), supervision (giám sát)
    scope: tuple[str, ...]
    unit_ids: tuple[str, ...]  # the inspected units
    lead_unit_id: str
    inter_sectoral: bool  # liên ngành
    planned_start: date
    planned_end: date


@dataclass(frozen=True, slots=True)
class Finding:
    finding_id: str
    unit_id: str
    severity: str
    topic: str
    summary: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A recommendation (kiến nghị) to a unit, with what became of it."""

    recommendation_id: str
    unit_id: str
    finding_id: str | None
    summary: str
    due: date
    issued_at: datetime
    resolved_at: datetime | None = None
    resolution: str | None = None
    withdrawn: bool = False  # its inspection was cancelled before it was resolved

    @property
    def unresolved(self) -> bool:
        """Counted as open: neither resolved nor withdrawn."""
        return self.resolved_at is None and not self.withdrawn

    def status(self, today: date) -> RecommendationStatus:
        if self.resolved_at is not None:
            return "resolved"
        if self.withdrawn:
            return "withdrawn"
        return "overdue" if today > self.due else "open"


def overdue_from(due: date) -> datetime:
    """The instant a recommendation due on ``due`` becomes overdue: the next local day."""
    return datetime.combine(due + timedelta(days=1), time(), tzinfo=VIETNAM)


@dataclass(frozen=True)
class InspectionState:
    inspection_id: str
    status: Status = "pending"
    plan: Plan | None = None
    planned_at: datetime | None = None
    started_at: datetime | None = None
    closed_at: datetime | None = None
    cancelled_at: datetime | None = None
    conclusion: str | None = None
    cancel_reason: str | None = None
    findings: tuple[Finding, ...] = ()
    recommendations: tuple[Recommendation, ...] = ()
    anomalies: tuple[Anomaly, ...] = ()
    next_event_due: datetime | None = None  # the earliest future-dated event
    next_overdue_at: datetime | None = None  # when the next open recommendation turns overdue

    @property
    def counted(self) -> bool:
        return self.status in COUNTED

    @property
    def terminal(self) -> bool:
        return self.status in ("closed", "cancelled")

    @property
    def next_due(self) -> datetime | None:
        """When the inspection must be folded again even if no event arrives."""
        times = [t for t in (self.next_event_due, self.next_overdue_at) if t is not None]
        return min(times, default=None)

    def inspected_on(self) -> date | None:
        """The actual start (local date), or the planned start of one closed unstarted."""
        if self.started_at is not None:
            return local_date(self.started_at)
        if self.status == "closed" and self.plan is not None:
            return self.plan.planned_start
        return None


@dataclass
class _Fold:
    """The mutable working state of one fold (never leaves :func:`fold_inspection`)."""

    state: InspectionState
    findings: dict[str, Finding] = field(default_factory=dict)
    recommendations: dict[str, Recommendation] = field(default_factory=dict)
    anomalies: list[Anomaly] = field(default_factory=list)
    early_resolutions: dict[str, str] = field(default_factory=dict)  # id -> resolution

    def note(self, kind: str, entry: HistoryEntry, detail: str) -> None:
        self.anomalies.append(Anomaly(kind, entry.key, detail))

    def inspected(self, unit_id: str) -> bool:
        return self.state.plan is not None and unit_id in self.state.plan.unit_ids

    def apply(self, entry: HistoryEntry) -> None:
        data = entry.data
        state = self.state
        if entry.type == "inspection.recommendation_resolved":
            self._resolve(entry, data)
        elif state.terminal:
            self.note("event_after_closure", entry, f"{entry.type} after {state.status}")
        elif entry.type == PLANNED:
            self.state = replace(
                state,
                plan=_plan(data),
                status="planned" if state.status == "pending" else state.status,
                planned_at=state.planned_at or entry.time,
            )
        elif entry.type == "inspection.started":
            if state.status == "started":
                self.note("started_twice", entry, "inspection started again")
            else:
                self.state = replace(state, status="started", started_at=entry.time)
        elif entry.type == "inspection.finding_recorded":
            self._find(entry, data)
        elif entry.type == "inspection.recommendation_issued":
            self._recommend(entry, data)
        elif entry.type == "inspection.closed":
            self.state = replace(
                state, status="closed", closed_at=entry.time, conclusion=data["conclusion"]
            )
        elif entry.type == "inspection.cancelled":
            self.state = replace(
                state, status="cancelled", cancelled_at=entry.time, cancel_reason=data["reason"]
            )
            self.recommendations = {
                k: replace(r, withdrawn=True) if r.unresolved else r
                for k, r in self.recommendations.items()
            }

    def _find(self, entry: HistoryEntry, data: dict[str, Any]) -> None:
        finding_id, unit_id = data["finding_id"], data["unit_id"]
        if finding_id in self.findings:
            self.note("duplicate_finding", entry, f"finding {finding_id} recorded again")
            return
        if not self.inspected(unit_id):
            self.note("unit_not_inspected", entry, f"finding {finding_id} for unit {unit_id}")
        self.findings[finding_id] = Finding(
            finding_id, unit_id, data["severity"], data["topic"], data["summary"], entry.time
        )

    def _recommend(self, entry: HistoryEntry, data: dict[str, Any]) -> None:
        rec_id, unit_id = data["recommendation_id"], data["unit_id"]
        if rec_id in self.recommendations:
            self.note("duplicate_recommendation", entry, f"recommendation {rec_id} issued again")
            return
        if not self.inspected(unit_id):
            self.note("unit_not_inspected", entry, f"recommendation {rec_id} for unit {unit_id}")
        finding_id = data.get("finding_id")
        if finding_id is not None and finding_id not in self.findings:
            self.note("unknown_finding", entry, f"recommendation {rec_id} cites {finding_id}")
        recommendation = Recommendation(
            rec_id,
            unit_id,
            finding_id,
            data["summary"],
            date.fromisoformat(data["due"]),
            entry.time,
        )
        resolution = self.early_resolutions.pop(rec_id, None)
        if resolution is not None:  # resolved with an earlier time: resolved as issued
            recommendation = replace(recommendation, resolved_at=entry.time, resolution=resolution)
        self.recommendations[rec_id] = recommendation

    def _resolve(self, entry: HistoryEntry, data: dict[str, Any]) -> None:
        rec_id = data["recommendation_id"]
        known = self.recommendations.get(rec_id)
        if known is None:
            self.note("unknown_recommendation", entry, f"{rec_id} resolved but never issued")
            self.early_resolutions.setdefault(rec_id, data["resolution"])
        elif known.resolved_at is not None:
            self.note("resolved_twice", entry, f"{rec_id} resolved again; the first stands")
        else:
            self.recommendations[rec_id] = replace(
                known, resolved_at=entry.time, resolution=data["resolution"]
            )


def _plan(data: dict[str, Any]) -> Plan:
    return Plan(
        title=data["title"],
        kind=data["kind"],
        scope=tuple(data["scope"]),
        unit_ids=tuple(dict.fromkeys(data["unit_ids"])),
        lead_unit_id=data["lead_unit_id"],
        inter_sectoral=data["inter_sectoral"],
        planned_start=date.fromisoformat(data["planned_start"]),
        planned_end=date.fromisoformat(data["planned_end"]),
    )


def fold_inspection(
    inspection_id: str, history: Sequence[HistoryEntry], now: datetime
) -> InspectionState:
    """The inspection as its events in effect at ``now`` make it."""
    effective = in_effect(history, now)
    waiting = next_due(history, now)
    first = next((i for i, e in enumerate(effective) if e.type == PLANNED), None)
    if first is None:
        anomalies = tuple(
            Anomaly("inspection_not_planned", e.key, f"{e.type} before any plan") for e in effective
        )
        return InspectionState(inspection_id, anomalies=anomalies, next_event_due=waiting)
    plan_entry = effective[first]
    fold = _Fold(InspectionState(inspection_id))
    fold.apply(plan_entry)
    for entry in effective[:first]:
        if entry.time < plan_entry.time:
            fold.note("event_before_planned", entry, f"{entry.type} before the plan's time")
        fold.apply(entry)
    for entry in effective[first + 1 :]:
        fold.apply(entry)
    today = local_date(now)
    turning = [
        overdue_from(r.due)
        for r in fold.recommendations.values()
        if r.status(today) == "open" and fold.state.counted
    ]
    return replace(
        fold.state,
        findings=tuple(fold.findings.values()),
        recommendations=tuple(fold.recommendations.values()),
        anomalies=tuple(fold.anomalies),
        next_event_due=waiting,
        next_overdue_at=min(turning, default=None),
    )
