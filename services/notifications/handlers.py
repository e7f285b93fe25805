"""What the notifications service does with its inputs: evaluate rules, log, fill the outbox.

Each function takes plain values and its collaborators as keyword-only parameters. The last
status seen per unit is written after the notifications it raised, so a crash in between
evaluates the same transition again on redelivery and finds the same notification ids in
the log: nothing lost, nothing twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from services.notifications.documents import Document, delivery_document, notification_document
from services.notifications.domain.messages import Language, render
from services.notifications.domain.policy import Admission, admit, releasable
from services.notifications.domain.reminders import (
    batch_summaries,
    deadline_reminders,
    summary_batches,
)
from services.notifications.domain.rules import (
    Candidate,
    indicator_rules,
    overdue_recommendation_rules,
)
from services.notifications.metrics import NotificationMetrics
from services.notifications.store import NotificationsStore
from shared.clock import VIETNAM, Clock, local_date
from shared.internal import AnomalyFact, PersonChanged, UnitChanged, UnitInspectionStatus
from shared.organisation import Organisation
from shared.outbound import Notification, UnitIndicators
from shared.plans import Plan

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuleSettings:
    language: Language
    quiet_period: dt.timedelta
    lead_times_days: tuple[int, ...]


@dataclass(frozen=True)
class Collaborators:
    store: NotificationsStore
    organisation: Organisation
    plans: tuple[Plan, ...]
    clock: Clock  # business time: raised_at, quiet periods, deadlines, days
    timer: Clock  # delivery time: outbox scheduling (always the real clock in production)
    metrics: NotificationMetrics
    rules: RuleSettings
    wake_outbox: Callable[[], None]
    # Returns once the organisation holds every unit change published before the call
    # (shared.organisation.UnitsFeed.caught_up)
    tree_caught_up: Callable[[], Awaitable[None]]


def _outran_the_tree(organisation: Organisation, unit_id: str, parent_id: str | None) -> bool:
    """A record places a unit where the organisation does not (yet): the record's topic was
    read before the unit change that placed it there."""
    unit = organisation.get(unit_id)
    return unit is None or unit.parent_id != parent_id


def unit_name(organisation: Organisation, unit_id: str) -> str:
    unit = organisation.get(unit_id)
    return unit.name if unit is not None and unit.name else unit_id


def _notification(
    candidate: Candidate, *, language: Language, raised_at: dt.datetime
) -> Notification:
    title, body = render(candidate.rule, candidate.details, language)
    return Notification(
        notification_id=candidate.notification_id,
        rule=candidate.rule,
        unit_id=candidate.unit_id,
        severity=candidate.severity,
        title=title,
        body=body,
        raised_at=raised_at.astimezone(VIETNAM).isoformat(),
        details=candidate.details,
    )


async def raise_notifications(candidates: Sequence[Candidate], *, deps: Collaborators) -> Admission:
    """Log what is new (once per id, outside quiet periods) with its deliveries in the outbox:
    one to Kafka, one per channel of each subscriber who wants it. A breach or recovery the
    quiet period suppresses is held back (``domain.policy``)."""
    if not candidates:
        return Admission([], [], [])
    now = deps.clock.now()
    logged = await deps.store.logged(c.notification_id for c in candidates)
    quiet = await deps.store.quiet_marks({c.quiet_key for c in candidates if c.quiet_key})
    words = await deps.store.words({c.state_key for c in candidates if c.state_key})
    admission, marks = admit(
        candidates,
        logged=logged,
        quiet=quiet,
        now=now,
        quiet_period=deps.rules.quiet_period,
        words=words,
    )
    subscriptions = await deps.store.all_subscriptions() if admission.raised else []
    notifications: list[Document] = []
    deliveries: list[Document] = []
    queued_at = deps.timer.now()
    for candidate in admission.raised:
        notification = _notification(candidate, language=deps.rules.language, raised_at=now)
        notifications.append(notification_document(notification, candidate.condition))
        deliveries.append(
            delivery_document(
                notification,
                channel="event",
                subscription_id=None,
                address=None,
                language=None,
                now=queued_at,
            )
        )
        chain = deps.organisation.ancestors_and_self(candidate.unit_id)
        for subscription in subscriptions:
            if not subscription.wants(
                rule=candidate.rule, severity=candidate.severity, chain=chain
            ):
                continue
            for channel, address in subscription.channels():
                deliveries.append(
                    delivery_document(
                        notification,
                        channel=channel,
                        subscription_id=subscription.id,
                        address=address,
                        language=subscription.language or deps.rules.language,
                        now=queued_at,
                    )
                )
    await deps.store.record(notifications, deliveries, marks, admission.words)
    for candidate in admission.raised:
        deps.metrics.raised.labels(rule=candidate.rule).inc()
    for candidate in admission.suppressed:
        deps.metrics.suppressed.labels(rule=candidate.rule).inc()
    if admission.raised:
        deps.wake_outbox()
    return admission


async def apply_indicator_updates(
    updates: Iterable[UnitIndicators], *, deps: Collaborators
) -> Admission:
    """Evaluate every unit's transitions in version order; versions not newer are ignored."""
    by_unit: dict[str, list[UnitIndicators]] = defaultdict(list)
    for update in updates:
        by_unit[update.unit_id].append(update)
    newest = [max(versions, key=lambda u: u.version) for versions in by_unit.values()]
    if any(_outran_the_tree(deps.organisation, u.unit_id, u.parent_id) for u in newest):
        await deps.tree_caught_up()  # the subscribers of its subtree are found by its place
    stored = await deps.store.unit_statuses(by_unit)
    candidates: list[Candidate] = []
    latest: list[UnitIndicators] = []
    for unit_id, versions in by_unit.items():
        previous = stored.get(unit_id)
        for update in sorted(versions, key=lambda u: u.version):
            if previous is not None and update.version <= previous.version:
                continue
            candidates += indicator_rules(previous, update)
            previous = update
        if previous is not None and previous is not stored.get(unit_id):
            latest.append(previous)
    admission = await raise_notifications(candidates, deps=deps)
    await deps.store.save_unit_statuses(latest)
    return admission


async def apply_inspection_statuses(
    statuses: Iterable[UnitInspectionStatus], *, deps: Collaborators
) -> Admission:
    by_unit: dict[str, list[UnitInspectionStatus]] = defaultdict(list)
    for status in statuses:
        by_unit[status.unit_id].append(status)
    if any(deps.organisation.get(unit_id) is None for unit_id in by_unit):
        await deps.tree_caught_up()  # for its name, and its place
    stored = await deps.store.inspection_statuses(by_unit)
    candidates: list[Candidate] = []
    latest: list[UnitInspectionStatus] = []
    for unit_id, revisions in by_unit.items():
        previous = stored.get(unit_id)
        name = unit_name(deps.organisation, unit_id)
        for status in sorted(revisions, key=lambda s: s.revision):
            if previous is not None and status.revision <= previous.revision:
                continue
            candidates += overdue_recommendation_rules(previous, status, unit_name=name)
            previous = status
        if previous is not None and previous is not stored.get(unit_id):
            latest.append(previous)
    admission = await raise_notifications(candidates, deps=deps)
    await deps.store.save_inspection_statuses(latest)
    return admission


def _anomaly_documents(
    subject: str, unit_id: str | None, anomalies: Iterable[AnomalyFact], day: dt.date
) -> list[Document]:
    """One document per anomaly (by subject, kind and event), dated the day first seen."""
    return [
        {
            "_id": hashlib.sha256(f"{subject}\x1f{a.kind}\x1f{a.event_key}".encode()).hexdigest(),
            "unit_id": unit_id,
            "day": day.isoformat(),
            "kind": a.kind,
            "summarised": False,
            "summary": None,
        }
        for a in anomalies
    ]


def attributed_unit(person: PersonChanged) -> str | None:
    """The unit a person's anomalies count against: home unit, else a unit the events name."""
    candidates = [
        person.home_unit_id,
        *person.pending_units,
        *(p.unit_id for p in person.positions),
        *(p.unit_id for p in person.planning_entries),
        *(a.unit_id for a in person.appointments),
    ]
    return next((unit for unit in candidates if unit), None)


async def record_person_anomalies(people: Iterable[PersonChanged], *, deps: Collaborators) -> None:
    """Each anomaly once, against the unit it counts in; one with no unit is kept apart and
    counted in the metric the first time it is seen (not again on a redelivery or a later
    revision of the person, which carries it again)."""
    day = local_date(deps.clock.now())
    documents: list[Document] = []
    unattributed: list[Document] = []
    for person in people:
        unit_id = attributed_unit(person)
        found = _anomaly_documents(f"p:{person.person_id}", unit_id, person.anomalies, day)
        (documents if unit_id else unattributed).extend(found)
    await deps.store.record_anomalies(documents)
    kept = [{"_id": d["_id"], "day": d["day"], "kind": d["kind"]} for d in unattributed]
    new = await deps.store.record_unattributed(kept) if kept else 0
    if new:
        log.warning("%d anomalies with no unit to count them against", new)
        deps.metrics.unattributed_anomalies.inc(new)


async def record_unit_anomalies(units: Iterable[UnitChanged], *, deps: Collaborators) -> None:
    day = local_date(deps.clock.now())
    documents: list[Document] = []
    for unit in units:
        documents += _anomaly_documents(f"u:{unit.unit_id}", unit.unit_id, unit.anomalies, day)
    await deps.store.record_anomalies(documents)


async def check_calendar(*, deps: Collaborators) -> None:
    """Deadline reminders due today, what the quiet period held back and may come out now,
    and the summaries of past days' anomalies."""
    now = deps.clock.now()
    today = local_date(now)
    reminders = deadline_reminders(
        deps.plans, deps.organisation, today=today, lead_times_days=deps.rules.lead_times_days
    )
    await raise_notifications(reminders, deps=deps)
    await release_held(deps=deps, now=now)
    await summarise_anomalies(deps=deps, before=today)


async def release_held(*, deps: Collaborators, now: dt.datetime) -> None:
    """A breach or recovery held back by a quiet period now over comes out if the indicator
    is still in that state in the unit's last status; the others are forgotten."""
    due = await deps.store.held_due(now)
    if not due:
        return
    candidates = [h.candidate for h in due]
    released = releasable(
        due,
        logged=await deps.store.logged(c.notification_id for c in candidates),
        quiet=await deps.store.quiet_marks({c.quiet_key for c in candidates if c.quiet_key}),
        statuses=await deps.store.unit_statuses({c.unit_id for c in candidates}),
    )
    await raise_notifications(released, deps=deps)  # their last word replaces what was held
    await deps.store.drop_held(h for h in due if h.candidate not in released)


async def summarise_anomalies(*, deps: Collaborators, before: dt.date) -> None:
    """The anomalies of past days not yet summarised are claimed in batches (one per unit and
    day); each claimed batch is raised as a summary, then exactly its anomalies are marked.
    One landing meanwhile is in no batch yet: the next pass claims it in a batch of its own.
    A crash in between finds the same batches again, whose summaries have the same ids."""
    unclaimed = await deps.store.unclaimed_anomalies(before=before)
    await deps.store.claim_anomalies(summary_batches(unclaimed))
    summaries = batch_summaries(
        await deps.store.claimed_anomalies(),
        unit_name=lambda unit_id: unit_name(deps.organisation, unit_id),
    )
    await raise_notifications([summary for summary, _ in summaries], deps=deps)
    await deps.store.mark_summarised([i for _, ids in summaries for i in ids])
