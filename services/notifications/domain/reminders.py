"""Rules driven by the calendar: plan deadlines (deadline_approaching) and the daily
data-quality summary (data_quality).

A data-quality summary counts one batch of anomalies of a unit and a local day: the ones
not yet summarised when the day is over. An anomaly that lands later (first seen just
before midnight, stored just after the summary was taken) is not lost: it is claimed in a
later batch of the same unit and day, which comes out as a summary of its own.

Who a deadline reminder goes to ("the units the plan covers"): for a plan with a scope
unit, the scope unit itself and every active ``agency`` and ``public_service_unit`` in its
subtree (the bodies that report; divisions report through them); for a national plan, each
active root of the organisation. A plan whose scope unit is unknown or closed covers nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.notifications.domain.rules import (
    DATA_QUALITY,
    DEADLINE_APPROACHING,
    Candidate,
    Severity,
)
from shared.organisation import Organisation
from shared.plans import Plan

REPORTING_LEVELS = frozenset({"agency", "public_service_unit"})


def units_covered(plan: Plan, organisation: Organisation) -> list[str]:
    """The units a plan's deadline reminders go to, in a stable order."""
    if plan.scope_unit_id is None:
        return sorted(
            u.unit_id
            for u in organisation.active_units()
            if u.parent_id is None and u.pending_parent is None
        )
    if not organisation.is_active(plan.scope_unit_id):
        return []
    below = sorted(
        u.unit_id
        for u in organisation.subtree(plan.scope_unit_id)
        if u.unit_id != plan.scope_unit_id
        and u.registered
        and u.active
        and u.level in REPORTING_LEVELS
    )
    return [plan.scope_unit_id, *below]


def reminder_severity(lead_days: int) -> Severity:
    if lead_days <= 1:
        return "critical"
    return "warning" if lead_days <= 7 else "info"


def deadline_reminders(
    plans: Iterable[Plan],
    organisation: Organisation,
    *,
    today: dt.date,
    lead_times_days: Sequence[int],
) -> list[Candidate]:
    """The reminders due today for every deadline ahead (deadline_approaching).

    A deadline on day ``d`` ("before d") has a reminder at ``d - lead`` for each lead time;
    on a day ``today < d`` the reminder due is the one of the shortest lead with
    ``d - lead <= today``, so a service that was down catches up with one reminder, not a
    burst. Its identity is (plan, deadline, date, unit, lead time): raised once.
    """
    leads = sorted({int(lead) for lead in lead_times_days if lead > 0})
    if not leads:
        return []
    horizon = today + dt.timedelta(days=leads[-1])
    found: list[Candidate] = []
    for plan in sorted(plans, key=lambda p: p.id):
        units = units_covered(plan, organisation)
        for deadline in plan.deadlines:
            for due in deadline.occurrences(today + dt.timedelta(days=1), horizon):
                lead = min(lead for lead in leads if due - dt.timedelta(days=lead) <= today)
                for unit_id in units:
                    unit = organisation.get(unit_id)
                    details = {
                        "unit_name": unit.name if unit and unit.name else unit_id,
                        "plan": plan.id,
                        "plan_title": plan.title,
                        "deadline": deadline.id,
                        "deadline_title": deadline.title,
                        "due": due.isoformat(),
                        "lead_days": lead,
                        "days_left": (due - today).days,
                    }
                    found.append(
                        Candidate(
                            rule=DEADLINE_APPROACHING,
                            unit_id=unit_id,
                            severity=reminder_severity(lead),
                            condition=(plan.id, deadline.id, due.isoformat(), str(lead)),
                            details=details,
                        )
                    )
    return found


@dataclass(frozen=True)
class AnomalySeen:
    """An anomaly as stored: the unit and local day it counts in, its kind, and the batch
    (summary) it was claimed for, if any."""

    anomaly_id: str
    unit_id: str
    day: str  # ISO date
    kind: str
    batch: str | None = None


def summary_batches(unclaimed: Iterable[AnomalySeen]) -> dict[str, list[str]]:
    """The anomalies of each (unit, day) not yet in a summary, as one new batch each: batch
    name → anomaly ids. The name is a digest of the ids it holds, so a later batch of the same
    unit and day has another name (and its summary another id)."""
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for anomaly in unclaimed:
        groups[(anomaly.unit_id, anomaly.day)].add(anomaly.anomaly_id)
    batches: dict[str, list[str]] = {}
    for (unit_id, day), ids in sorted(groups.items()):
        members = sorted(ids)
        digest = hashlib.sha256("\x1f".join((unit_id, day, *members)).encode()).hexdigest()
        batches[digest[:24]] = members
    return batches


def batch_summaries(
    claimed: Iterable[AnomalySeen], *, unit_name: Callable[[str], str]
) -> list[tuple[Candidate, list[str]]]:
    """The summary of each claimed batch, with the ids of the anomalies it counts."""
    groups: dict[tuple[str, str, str], list[AnomalySeen]] = defaultdict(list)
    for anomaly in claimed:
        if anomaly.batch is not None:
            groups[(anomaly.unit_id, anomaly.day, anomaly.batch)].append(anomaly)
    return [
        (
            data_quality_summary(
                unit_id,
                dt.date.fromisoformat(day),
                Counter(a.kind for a in members),
                unit_name=unit_name(unit_id),
                batch=batch,
            ),
            sorted(a.anomaly_id for a in members),
        )
        for (unit_id, day, batch), members in sorted(groups.items())
    ]


def data_quality_summary(
    unit_id: str,
    day: dt.date,
    counts_by_kind: Mapping[str, int],
    *,
    unit_name: str,
    batch: str,
) -> Candidate:
    """One unit's data-quality anomalies of one local day, as counts by kind (no person).
    Its identity is (unit, day, batch): raised once per batch of anomalies."""
    counts = {kind: int(n) for kind, n in sorted(counts_by_kind.items()) if n > 0}
    return Candidate(
        rule=DATA_QUALITY,
        unit_id=unit_id,
        severity="info",
        condition=(day.isoformat(), batch),
        details={
            "unit_name": unit_name,
            "day": day.isoformat(),
            "counts": counts,
            "total": sum(counts.values()),
        },
    )
