"""The personnel service's outbox: changes announced by a marker and never confirmed sent.

A write that no event will bring again (see handlers.py) is announced by a marker in
``unpublished`` before it is made, and the marker is cleared once its change is on Kafka.
A writer killed in between leaves the marker; ``publish_unpublished`` publishes what it
left undone. The sweep calls it, every second by default.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from services.personnel.changes import Change, person_change, unit_change
from services.personnel.handlers import Collaborators

log = logging.getLogger("parity.personnel")

# A marker whose write never landed (the writer died before it) is dropped after this long:
# the events behind it were not committed, so Kafka brings them again.
ABANDONED_AFTER = timedelta(hours=1)


async def publish_unpublished(*, deps: Collaborators) -> int:
    """Publish the current state of every subject whose announced write landed but whose
    change was never confirmed on Kafka; returns how many changes were sent.

    A marker of a write still in flight in another replica is left alone (the subject is
    still below the announced revision), or, if the write just landed, its change is sent
    twice: the indicator service keeps the higher revision, so that is harmless.
    """
    markers = await deps.store.unpublished()
    now = deps.clock.now()
    changes: dict[tuple[str, str], Change] = {}
    done: list[str] = []
    for collection, make_change in (("units", unit_change), ("people", person_change)):
        announced = [m for m in markers if m.collection == collection]
        stored = await deps.store.load(collection, {m.subject for m in announced})
        for marker in announced:
            current = stored.get(marker.subject)
            if current is not None and current.rev >= marker.rev:
                changes[(collection, marker.subject)] = make_change(
                    marker.subject, current.rev, current.fields
                )
                done.append(marker.id)
            elif now - marker.at > ABANDONED_AFTER:
                done.append(marker.id)
    if changes:
        log.warning("publishing %d changes a stopped writer left unpublished", len(changes))
    await deps.changes.publish(list(changes.values()))
    await deps.store.clear_unpublished(done)
    return len(changes)
