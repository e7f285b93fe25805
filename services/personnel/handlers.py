"""What the personnel service does with events: fold, write once, tell the indicator service.

Each function takes plain values and its collaborators as keyword-only parameters. A
subject's new events are merged into its stored history (a redelivery is recognised by
its key), the subject is folded again, and the result is written on condition that nobody
wrote it meanwhile; a lost race is retried from a fresh read. Change events are sent
before the consumer commits, and a redelivered event re-sends the current state, so a
crash between the write and the commit loses nothing downstream. A write no event will
bring again (a person re-folded for a unit event or by the future-event sweep, a unit
write) is announced by a marker first (see store.py); ``outbox.publish_unpublished``
finishes what a writer killed between its write and its publication left undone.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.personnel.changes import Change, ChangeSink, person_change, unit_change
from services.personnel.documents import (
    Document,
    person_fields,
    unit_fields,
    unit_states_from_documents,
)
from services.personnel.domain.people import fold_person
from services.personnel.domain.units import (
    Placement,
    UnitDirectory,
    UnitState,
    derive_tree,
    fold_unit,
)
from services.personnel.store import PersonnelStore
from services.personnel.ties import TieChange, ties_to_add
from shared.agenda import entries_to_expect
from shared.aio import gather_all
from shared.clock import Clock
from shared.documents import Stored, Write, empty, new_anomalies
from shared.envelope import InboundEvent
from shared.history import applied_of, merge_into_history
from shared.metrics import ServiceMetrics

log = logging.getLogger("parity.personnel")

MAX_ATTEMPTS = 8
PLACEMENT_FIELDS = ("parent_id", "path", "active", "pending_parent", "placement_anomalies")


class WriteContention(RuntimeError):
    """A subject kept changing under us; the batch is retried from Kafka."""


@dataclass(frozen=True)
class Collaborators:
    store: PersonnelStore
    changes: ChangeSink
    clock: Clock
    metrics: ServiceMetrics


def by_subject(events: Iterable[InboundEvent]) -> dict[str, list[InboundEvent]]:
    grouped: dict[str, list[InboundEvent]] = defaultdict(list)
    for event in events:
        grouped[event.subject].append(event)
    return grouped


def _count(
    metrics: ServiceMetrics, applied: Sequence[InboundEvent], duplicates: Sequence[InboundEvent]
) -> None:
    for event in applied:
        metrics.events_applied.labels(type=event.type).inc()
    for event in duplicates:
        metrics.events_duplicate.labels(type=event.type).inc()


async def apply_person_events(
    new_events: Mapping[str, Sequence[InboundEvent]], *, deps: Collaborators
) -> None:
    """Fold the people named (with their new events, possibly none) and write them.

    A person with new events starts from this process's copy when it has one (recent.py);
    one without (a re-fold for a unit event or by the sweep), or whose write lost a race, is
    read from the store."""
    subjects = set(new_events)
    recent = deps.store.recent_people
    folded_on_an_old_tree: set[str] = set()
    for _ in range(MAX_ATTEMPTS):
        # a batch with new events folds on the directory this process knows, and the check
        # after its write catches a tree moved since; a fold again reads the tree first
        if any(new_events.values()):
            directory, tree_at = await deps.store.known_directory()
        else:
            directory, tree_at = await deps.store.unit_directory()
        known = recent.get(s for s in subjects if new_events.get(s))
        stored = known | await deps.store.load("people", subjects - set(known))
        now = deps.clock.now()
        writes: list[Write] = []
        republish: list[Change] = []
        outcome: dict[str, tuple[list[InboundEvent], list[InboundEvent]]] = {}
        for subject in subjects:
            current = stored.get(subject) or empty(subject)
            events = new_events.get(subject, ())
            history, duplicates = merge_into_history(current.history, events)
            outcome[subject] = (applied_of(events, duplicates), duplicates)
            if not history:  # a tie or agenda entry outlived a write that never landed
                continue
            fields = person_fields(fold_person(subject, history, directory, now))
            if len(history) == len(current.history) and fields == current.fields:
                if duplicates and current.rev:
                    republish.append(person_change(subject, current.rev, current.fields))
                continue
            writes.append(Write(subject, current.rev, fields, history))
        await deps.store.expect_due("people", _new_due(writes, stored))
        await deps.store.ties.add(ties_to_add(_tie_changes(writes, stored)))
        # a write with new events needs no marker: uncommitted, they come again from Kafka,
        # and their redelivery re-sends the current state
        unannounced = [w for w in writes if not outcome[w.subject][0]]
        markers = await _announce("people", unannounced, deps=deps)
        conflicts = set(await deps.store.save("people", writes))
        recent.drop(conflicts)
        landed = [w for w in writes if w.subject not in conflicts]
        _count_anomalies(deps.metrics, _written(landed, stored))
        recent.keep(landed)
        changed = [person_change(w.subject, w.expected_rev + 1, w.fields) for w in landed]
        # the tree version is read after the write; the publication need not wait for it
        check = [deps.store.tree_moved(since=tree_at)] if landed else []
        _, *moved = await gather_all(deps.changes.publish(changed + republish), *check)
        await deps.store.clear_unpublished(list(markers.values()))
        for subject in subjects - conflicts:
            _count(deps.metrics, *outcome[subject])
        if any(moved):
            folded_on_an_old_tree |= {w.subject for w in landed}
        if not conflicts:
            break
        subjects = conflicts
    else:
        raise WriteContention(f"people kept changing: {sorted(subjects)[:5]}")
    if folded_on_an_old_tree:
        # A unit writer moved the tree after it was read above. Its re-fold of the people
        # tied to its units read them before these writes, or did not find their new ties:
        # fold them again, as written, with the tree as it is now.
        log.info(
            "the tree moved during a fold of %d people: folding them again",
            len(folded_on_an_old_tree),
        )
        await apply_person_events({p: () for p in sorted(folded_on_an_old_tree)}, deps=deps)


async def apply_unit_events(
    new_events: Mapping[str, Sequence[InboundEvent]], *, deps: Collaborators
) -> None:
    """Fold the units named, re-derive the tree, and re-fold the people a closure touches."""
    subjects = set(new_events)
    for _ in range(MAX_ATTEMPTS):
        read_at = await deps.store.tree_version()  # before the units are read
        stored = await deps.store.load("units", subjects)
        documents = await deps.store.units_at(read_at)
        now = deps.clock.now()
        states = unit_states_from_documents(documents)
        histories, outcome = {}, {}
        for subject in subjects:
            current = stored.get(subject) or empty(subject)
            events = new_events.get(subject, ())
            history, duplicates = merge_into_history(current.history, events)
            histories[subject] = history
            outcome[subject] = (applied_of(events, duplicates), duplicates)
            states[subject] = fold_unit(subject, history, now)
        placements = derive_tree(states)
        writes: list[Write] = []
        republish: list[Change] = []
        for unit_id in sorted(subjects):
            fields = unit_fields(states[unit_id], placements.get(unit_id))
            current = stored.get(unit_id) or empty(unit_id)
            if len(histories[unit_id]) != len(current.history) or _differs(fields, current.fields):
                writes.append(Write(unit_id, current.rev, fields, histories[unit_id]))
            elif outcome[unit_id][1] and current.rev:
                republish.append(unit_change(unit_id, current.rev, current.fields))
        placement_updates = _moved(states, placements, documents, besides=subjects)
        await deps.store.expect_due("units", _new_due(writes, stored))
        markers = await _announce("units", writes, deps=deps)
        unwritten = await deps.store.save("units", writes)
        _count_anomalies(
            deps.metrics, _written([w for w in writes if w.subject not in unwritten], stored)
        )
        if unwritten:  # another writer got there first: read everything again
            # (what did land is re-sent by the next attempt: its events are duplicates then)
            await deps.store.clear_unpublished([markers[u] for u in unwritten])
            continue
        moved, placement_markers = await _place(placement_updates, documents, deps=deps)
        changed = [unit_change(w.subject, w.expected_rev + 1, w.fields) for w in writes]
        await deps.changes.publish(changed + moved + republish)
        await deps.store.clear_unpublished(list((markers | placement_markers).values()))
        for subject in subjects:
            _count(deps.metrics, *outcome[subject])
        version = await deps.store.bump_tree_version()
        if version == read_at + 1:  # nobody moved the tree meanwhile: ours is the new one
            written = [w.subject for w in writes] + list(placement_updates)
            await deps.store.know_tree(version, documents, written, UnitDirectory.of(states))
        else:  # another writer did, and one of us derived placements from a stale tree
            await place_again(deps=deps)
        await refold_people_tied_to(subjects, deps=deps)
        return
    raise WriteContention(f"units kept changing: {sorted(subjects)[:5]}")


async def refold_people_tied_to(unit_ids: Iterable[str], *, deps: Collaborators) -> None:
    """A unit that arrived or closed changes the people tied to it: fold them again.

    Done for every unit event, redeliveries included, so that a crash after the unit was
    written but before its people were is repaired by the redelivery; people whose fold
    does not change are not written. Called after the tree version was bumped: a person
    writer whose write lands after this read sees the new version when it reads it after
    its write (see ``apply_person_events``).
    """
    people = await deps.store.ties.people_tied_to(unit_ids)
    for start in range(0, len(people), 500):
        await apply_person_events({p: () for p in people[start : start + 500]}, deps=deps)


async def place_again(*, deps: Collaborators) -> None:
    """Derive every unit's placement again from the units as stored now, and write and
    publish those that differ.

    Two writers of units at once (a replica's consumer and another's sweep) each derive
    placements from the units they read; a unit that only the other's change moves keeps
    the placement of the one that wrote last. Each writer bumps the tree version after
    its writes, and the one whose bump finds that the other bumped since its read comes
    here: its read now follows both writers' writes."""
    documents = await deps.store.unit_documents()
    states = unit_states_from_documents(documents)
    updates = _moved(states, derive_tree(states), documents)
    if updates:
        log.warning("the tree moved meanwhile: placements of %d units derived again", len(updates))
    moved, markers = await _place(updates, documents, deps=deps)
    await deps.changes.publish(moved)
    await deps.store.clear_unpublished(list(markers.values()))


def _moved(
    states: Mapping[str, UnitState],
    placements: Mapping[str, Placement],
    documents: Mapping[str, Document],
    besides: Iterable[str] = (),
) -> dict[str, Document]:
    """The placement fields of each unit (but ``besides``) whose place in the tree derived
    from ``states`` differs from its stored document."""
    skipped, moved = set(besides), {}
    for unit_id, state in states.items():
        if unit_id in skipped:
            continue
        fields = unit_fields(state, placements.get(unit_id))
        stored = documents.get(unit_id, {})
        if any(fields[k] != stored.get(k) for k in PLACEMENT_FIELDS):
            moved[unit_id] = {k: fields[k] for k in PLACEMENT_FIELDS}
    return moved


async def _place(
    updates: Mapping[str, Document], documents: Mapping[str, Document], *, deps: Collaborators
) -> tuple[list[Change], dict[str, str]]:
    """Write the placements of units that are not the subject of a write (announced first,
    as no event brings them again); their changes and markers, to publish and clear."""
    markers = await deps.store.mark_unpublished(
        "units", {u: int(documents[u].get("rev", 0)) + 1 for u in updates}, deps.clock.now()
    )
    await deps.store.update_placements(updates)
    refreshed = await deps.store.load("units", updates)
    _count_anomalies(deps.metrics, [(documents[u], s.fields) for u, s in refreshed.items()])
    return [unit_change(u, s.rev, s.fields) for u, s in refreshed.items()], markers


def _count_anomalies(metrics: ServiceMetrics, changed: Iterable[tuple[Document, Document]]) -> None:
    """Count the anomalies each (stored, new) pair of a subject's fields adds."""
    for before, after in changed:
        for key in ("anomalies", "placement_anomalies"):
            for anomaly in new_anomalies(before, after, key):
                metrics.anomalies.labels(kind=anomaly["kind"]).inc()


def _written(
    landed: Iterable[Write], stored: Mapping[str, Stored]
) -> list[tuple[Document, Document]]:
    return [(stored[w.subject].fields if w.subject in stored else {}, w.fields) for w in landed]


def _new_due(writes: list[Write], stored: Mapping[str, Stored]) -> dict[str, datetime]:
    before = {subject: s.fields for subject, s in stored.items()}
    return entries_to_expect((w.subject, w.fields, before.get(w.subject)) for w in writes)


def _tie_changes(writes: list[Write], stored: Mapping[str, Stored]) -> list[TieChange]:
    before = {subject: s.fields.get("tied_units") for subject, s in stored.items()}
    return [(w.subject, w.fields["tied_units"], before.get(w.subject)) for w in writes]


async def _announce(collection: str, writes: list[Write], *, deps: Collaborators) -> dict[str, str]:
    revisions = {w.subject: w.expected_rev + 1 for w in writes}
    return await deps.store.mark_unpublished(collection, revisions, deps.clock.now())


def _differs(new: Document, old: Document) -> bool:
    return any(new.get(k) != old.get(k) for k in set(new) | set(old))
