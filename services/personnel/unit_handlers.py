"""What the personnel service does with unit events: fold the units, derive the tree, place
the units it moves, and fold again the people a unit event touches (handlers.py folds and
writes them). The same discipline as handlers.py: written on condition, announced by a
marker where no event brings the write again, published before the commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

from services.personnel.changes import Change, unit_change
from services.personnel.documents import Document, unit_fields, unit_states_from_documents
from services.personnel.domain.units import (
    Placement,
    UnitDirectory,
    UnitState,
    derive_tree,
    fold_unit,
)
from services.personnel.handlers import (
    MAX_ATTEMPTS,
    Collaborators,
    WriteContention,
    announce,
    apply_person_events,
    count_anomalies,
    count_outcome,
    new_due,
    written_pairs,
)
from shared.documents import Write, empty
from shared.envelope import InboundEvent
from shared.history import applied_of, merge_into_history

log = logging.getLogger("parity.personnel")

PLACEMENT_FIELDS = ("parent_id", "path", "active", "pending_parent", "placement_anomalies")


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
        await deps.store.expect_due("units", new_due(writes, stored))
        markers = await announce("units", writes, deps=deps)
        unwritten = await deps.store.save("units", writes)
        count_anomalies(
            deps.metrics, written_pairs([w for w in writes if w.subject not in unwritten], stored)
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
            count_outcome(deps.metrics, *outcome[subject])
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
    count_anomalies(deps.metrics, [(documents[u], s.fields) for u, s in refreshed.items()])
    return [unit_change(u, s.rev, s.fields) for u, s in refreshed.items()], markers


def _differs(new: Document, old: Document) -> bool:
    return any(new.get(k) != old.get(k) for k in set(new) | set(old))
