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

People are folded and written here; unit events, and the people they fold again, in
unit_handlers.py, with the bookkeeping below (counts, markers, agenda entries) shared.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.personnel.changes import Change, ChangeSink, person_change
from services.personnel.documents import Document, person_fields
from services.personnel.domain.people import fold_person
from services.personnel.store import PersonnelStore
from services.personnel.ties import TieChange, newly_ahead, ties_to_add
from shared.agenda import entries_to_expect
from shared.aio import gather_all
from shared.clock import Clock
from shared.dead_letters import DeadLetters
from shared.documents import Stored, Write, empty, new_anomalies
from shared.envelope import InboundEvent
from shared.history import applied_of, merge_into_history
from shared.metrics import ServiceMetrics
from shared.service import Record, decode_batch, observe_latency

log = logging.getLogger("parity.personnel")

MAX_ATTEMPTS = 8


class WriteContention(RuntimeError):
    """A subject kept changing under us; the batch is retried from Kafka."""


@dataclass(frozen=True)
class Collaborators:
    store: PersonnelStore
    changes: ChangeSink
    clock: Clock
    metrics: ServiceMetrics


class Handler(Protocol):
    """``apply_person_events`` and ``apply_unit_events``: new events by subject, applied."""

    async def __call__(
        self, new_events: Mapping[str, Sequence[InboundEvent]], *, deps: Collaborators
    ) -> None: ...


def by_subject(events: Iterable[InboundEvent]) -> dict[str, list[InboundEvent]]:
    grouped: dict[str, list[InboundEvent]] = defaultdict(list)
    for event in events:
        grouped[event.subject].append(event)
    return grouped


async def apply_records(
    records: Sequence[Record], apply: Handler, *, deps: Collaborators, dead_letters: DeadLetters
) -> None:
    """Decode records of a topic (poison to its DLQ) and ``apply`` their events by subject:
    a subscriber's batch, or a pass of the catch-up (catch_up.py)."""
    valid = await decode_batch(records, dead_letters=dead_letters)
    await apply(by_subject(event for event, _ in valid), deps=deps)
    observe_latency(deps.metrics, [record for _, record in valid])


def count_outcome(
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
        await deps.store.expect_due("people", new_due(writes, stored))
        await deps.store.ties.add(
            ties_to_add(_tie_changes(writes, stored)), ahead=newly_ahead(_pending(writes, stored))
        )
        # a write with new events needs no marker: uncommitted, they come again from Kafka,
        # and their redelivery re-sends the current state
        unannounced = [w for w in writes if not outcome[w.subject][0]]
        markers = await announce("people", unannounced, deps=deps)
        conflicts = set(await deps.store.save("people", writes))
        recent.drop(conflicts)
        landed = [w for w in writes if w.subject not in conflicts]
        count_anomalies(deps.metrics, written_pairs(landed, stored))
        recent.keep(landed)
        changed = [person_change(w.subject, w.expected_rev + 1, w.fields) for w in landed]
        # the tree version is read after the write; the publication need not wait for it
        check = [deps.store.tree_moved(since=tree_at)] if landed else []
        _, *moved = await gather_all(deps.changes.publish(changed + republish), *check)
        await deps.store.clear_unpublished(list(markers.values()))
        for subject in subjects - conflicts:
            count_outcome(deps.metrics, *outcome[subject])
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


def count_anomalies(metrics: ServiceMetrics, changed: Iterable[tuple[Document, Document]]) -> None:
    """Count the anomalies each (stored, new) pair of a subject's fields adds."""
    for before, after in changed:
        for key in ("anomalies", "placement_anomalies"):
            for anomaly in new_anomalies(before, after, key):
                metrics.anomalies.labels(kind=anomaly["kind"]).inc()


def written_pairs(
    landed: Iterable[Write], stored: Mapping[str, Stored]
) -> list[tuple[Document, Document]]:
    return [(stored[w.subject].fields if w.subject in stored else {}, w.fields) for w in landed]


def new_due(writes: list[Write], stored: Mapping[str, Stored]) -> dict[str, datetime]:
    before = {subject: s.fields for subject, s in stored.items()}
    return entries_to_expect((w.subject, w.fields, before.get(w.subject)) for w in writes)


def _tie_changes(writes: list[Write], stored: Mapping[str, Stored]) -> list[TieChange]:
    before = {subject: s.fields.get("tied_units") for subject, s in stored.items()}
    return [(w.subject, w.fields["tied_units"], before.get(w.subject)) for w in writes]


def _pending(
    writes: list[Write], stored: Mapping[str, Stored]
) -> list[tuple[list[str], list[str] | None]]:
    before = {subject: s.fields.get("pending_units") for subject, s in stored.items()}
    return [(w.fields["pending_units"], before.get(w.subject)) for w in writes]


async def announce(collection: str, writes: list[Write], *, deps: Collaborators) -> dict[str, str]:
    revisions = {w.subject: w.expected_rev + 1 for w in writes}
    return await deps.store.mark_unpublished(collection, revisions, deps.clock.now())
