"""What the inspections service does with events: fold, write once, publish unit statuses.

Each function takes plain values and its collaborators as keyword-only parameters. An
inspection's new events are merged into its stored history (a redelivery is recognised by
its key), the inspection is folded again and written on condition that nobody wrote it
meanwhile (a lost race is retried from a fresh read). Then the own status of every unit the
inspection names, before or after, is recomputed from the stored inspections and written
the same way, and each change is published before the consumer commits. A redelivered
event re-sends the current statuses of its units and rewrites its recommendations, and so
does the sweep for a due inspection it finds already written (a sweep is not redelivered:
its agenda entries stay due until it has published, so it comes again), so a crash between
two of these writes loses nothing.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from services.inspections.documents import (
    Document,
    contribution_from_document,
    facts_document,
    facts_from_document,
    inspection_fields,
    recommendation_documents,
    rollup_document,
    unit_status,
)
from services.inspections.domain.inspection import InspectionState, fold_inspection
from services.inspections.domain.units import own_facts, rollups
from services.inspections.metrics import InspectionMetrics
from services.inspections.status import StatusSink
from services.inspections.store import InspectionsStore
from shared.agenda import entries_to_expect
from shared.clock import VIETNAM, Clock, local_date
from shared.documents import Write, empty, new_anomalies
from shared.envelope import InboundEvent
from shared.history import applied_of, merge_into_history
from shared.internal import UnitInspectionStatus
from shared.organisation import Organisation

MAX_ATTEMPTS = 8
SWEEP_CHUNK = 200
EVER_NAMED = "units_ever_named"


class WriteContention(RuntimeError):
    """A document kept changing under us; the batch is retried from Kafka."""


@dataclass
class RollupTracker:
    """When every roll-up must be computed again: the tree changed, or the year turned."""

    tree_changed: bool = True
    year: int | None = None


@dataclass(frozen=True)
class Collaborators:
    store: InspectionsStore
    statuses: StatusSink
    organisation: Organisation
    clock: Clock
    metrics: InspectionMetrics
    tracker: RollupTracker = field(default_factory=RollupTracker)
    rollup_turn: asyncio.Lock = field(default_factory=asyncio.Lock)  # see refresh_rollups


def by_subject(events: Iterable[InboundEvent]) -> dict[str, list[InboundEvent]]:
    grouped: dict[str, list[InboundEvent]] = defaultdict(list)
    for event in events:
        grouped[event.subject].append(event)
    return grouped


async def apply_inspection_events(
    new_events: Mapping[str, Sequence[InboundEvent]],
    *,
    deps: Collaborators,
    swept: bool = False,
) -> None:
    """Fold the inspections named (with their new events, possibly none) and write them.

    ``swept``: the sweep found them due. Their agenda entries stay as they are until the
    sweep has published what followed (it reschedules them then): should it stop half-way,
    the entries are still due, and the next sweep finds the inspections written and sends
    their units' statuses again, as a redelivery does. Nothing redelivers a sweep."""
    subjects = set(new_events)
    units: set[str] = set()
    republish: set[str] = set()
    for _ in range(MAX_ATTEMPTS):
        stored = await deps.store.load_inspections(subjects)
        now = deps.clock.now()
        today = local_date(now)
        writes: list[Write] = []
        folded: dict[str, tuple[InspectionState, set[str]]] = {}
        repairs: list[tuple[InspectionState, int]] = []
        outcome: dict[str, tuple[Sequence[InboundEvent], list[InboundEvent], list[Document]]] = {}
        for subject in subjects:
            current = stored.get(subject) or empty(subject)
            events = new_events.get(subject, ())
            history, duplicates = merge_into_history(current.history, events)
            state = fold_inspection(subject, history, now)
            fields = inspection_fields(state, today)
            # Every unit the inspection ever named is kept with it, so that a unit it names
            # no more is recomputed even when the write that dropped it already landed (a
            # redelivery after a failure between that write and the unit statuses').
            named = _ever_named(current.fields) | set(fields["named_units"])
            fields[EVER_NAMED] = sorted(named)
            again = bool(duplicates or swept) and current.rev > 0
            if again:
                # a redelivery, or the sweep again: what followed the last write may not
                # have happened, whether or not this batch brings more
                republish |= named
            if len(history) == len(current.history) and fields == current.fields:
                outcome[subject] = (events, duplicates, [])
                if again:
                    repairs.append((state, current.rev))
                continue
            outcome[subject] = (events, duplicates, new_anomalies(current.fields, fields))
            writes.append(Write(subject, current.rev, fields, history))
            folded[subject] = (state, named)
        if not swept:  # a swept inspection's entry is due now: earlier than any new one
            before = {subject: s.fields for subject, s in stored.items()}
            await deps.store.agenda.expect(
                entries_to_expect((w.subject, w.fields, before.get(w.subject)) for w in writes)
            )
        conflicts = set(await deps.store.save_inspections(writes))
        for write in writes:
            if write.subject not in conflicts:
                state, named = folded[write.subject]
                repairs.append((state, write.expected_rev + 1))
                units |= named
        for subject in subjects - conflicts:
            _count(deps.metrics, *outcome[subject])
        for state, rev in repairs:
            documents = recommendation_documents(state, today, rev)
            await deps.store.sync_recommendations(state.inspection_id, rev, documents)
        if not conflicts:
            break
        subjects = conflicts
    else:
        raise WriteContention(f"inspections kept changing: {sorted(subjects)[:5]}")
    await refresh_units(units | republish, deps=deps, republish=republish)


def _ever_named(stored: Document) -> set[str]:
    """The units a stored inspection ever named (one written before the field was kept:
    those it names)."""
    named: list[str] = stored.get(EVER_NAMED) or stored.get("named_units") or []
    return set(named)


def _count(
    metrics: InspectionMetrics,
    events: Sequence[InboundEvent],
    duplicates: Sequence[InboundEvent],
    new_anomalies: Sequence[Document],
) -> None:
    for event in applied_of(events, duplicates):
        metrics.service.events_applied.labels(type=event.type).inc()
    for event in duplicates:
        metrics.service.events_duplicate.labels(type=event.type).inc()
    for anomaly in new_anomalies:
        metrics.service.anomalies.labels(kind=anomaly["kind"]).inc()


async def refresh_units(
    unit_ids: Iterable[str], *, deps: Collaborators, republish: Iterable[str] = ()
) -> None:
    """Recompute the own status of the units from the stored inspections, write the changed
    ones, publish them (and re-send the unchanged ones in ``republish``)."""
    pending, resend_wanted = set(unit_ids), set(republish)
    changed: set[str] = set()
    for _ in range(MAX_ATTEMPTS):
        current = await deps.store.load_units(pending)  # revisions first, then the facts
        parts = await deps.store.contributions_to(pending)
        writes: list[Write] = []
        resend: list[UnitInspectionStatus] = []
        for unit_id in sorted(pending):
            facts = own_facts(unit_id, [contribution_from_document(d) for d in parts[unit_id]])
            fields = facts_document(facts)
            stored = current.get(unit_id)
            if stored is None and facts.empty:
                continue
            if stored is not None and stored.fields == fields:
                if unit_id in resend_wanted:
                    resend.append(unit_status(unit_id, stored.rev, stored.fields))
                continue
            writes.append(Write(unit_id, stored.rev if stored else 0, fields))
        conflicts = set(await deps.store.save_units(writes))
        landed = [w for w in writes if w.subject not in conflicts]
        await deps.statuses.publish(
            [unit_status(w.subject, w.expected_rev + 1, w.fields) for w in landed] + resend
        )
        changed |= {w.subject for w in landed}
        if not conflicts:
            break
        pending = conflicts
    else:
        raise WriteContention(f"unit statuses kept changing: {sorted(pending)[:5]}")
    # a re-sent status may follow a write whose roll-ups were not written: those too
    if changed or resend_wanted:
        await refresh_rollups(changed | resend_wanted, deps=deps)


async def refresh_rollups(unit_ids: Iterable[str] | None, *, deps: Collaborators) -> None:
    """Recompute the roll-ups of the units and their ancestors (every unit when None) and
    write those that changed.

    One computation at a time in a process; across replicas, each takes a version before it
    reads the facts, and a roll-up is written only over one of a lower version, so one
    computed from older facts never overwrites one computed from newer."""
    async with deps.rollup_turn:
        version = await deps.store.next_rollup_version()
        stored_facts = await deps.store.all_unit_facts()
        facts = {u: facts_from_document(u, d) for u, d in stored_facts.items()}
        organisation = deps.organisation
        now = deps.clock.now()
        targets = (
            None
            if unit_ids is None
            else {a for u in unit_ids for a in organisation.ancestors_and_self(u)}
        )
        computed = rollups(organisation.units, facts, now.astimezone(VIETNAM).year, targets)
        existing = await deps.store.rollups(targets)
        documents = {u: rollup_document(r) for u, r in computed.items()}
        changed = {u: d for u, d in documents.items() if d != existing.get(u)}
        await deps.store.save_rollups(changed, now, version)
    if unit_ids is None:
        unknown = sum(1 for u in facts if organisation.get(u) is None)
        deps.metrics.service.pending_references.set(unknown)


async def sweep(deps: Collaborators) -> None:
    """Future-dated events whose time has come and recommendations that became overdue
    take effect; roll-ups are recomputed when the tree changed or the year turned.

    A chunk of inspections that fails (one that cannot be folded, the store away) stops
    neither the other chunks nor the roll-ups: its entries stay due, and the failures are
    raised together at the end (the sweep's runner logs them and comes again)."""
    now = deps.clock.now()
    due = await deps.store.agenda.due(now)
    subjects = sorted(due)
    failures: list[Exception] = []
    for start in range(0, len(subjects), SWEEP_CHUNK):
        chunk = subjects[start : start + SWEEP_CHUNK]
        try:
            await apply_inspection_events({i: () for i in chunk}, deps=deps, swept=True)
        except Exception as error:
            failures.append(error)
            continue
        await deps.store.agenda.reschedule({i: due[i] for i in chunk})
    tracker, year = deps.tracker, now.astimezone(VIETNAM).year
    if tracker.tree_changed or tracker.year != year:
        tracker.tree_changed = False  # a tree change meanwhile sets it again
        try:
            await refresh_rollups(None, deps=deps)
        except Exception as error:
            tracker.tree_changed = True  # not done: the next sweep does it
            failures.append(error)
        else:
            tracker.year = year
    if failures:
        raise ExceptionGroup("the inspections sweep did not finish", failures)
