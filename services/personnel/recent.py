"""The people this process last read or wrote, as stored: a bounded cache (pure).

A batch of person events read every person it names from the store first: about a sixth of
the personnel service's time in ``make bench`` (bench/RESULTS.md). A person with new events
may instead start from the copy this process kept when it last wrote or read them. The
write that follows is a compare-and-set on the revision, so a copy that another writer
made stale (a replica, a re-fold for a unit event) costs a retry from a fresh read, never
an update; and when the new events turn out to be duplicates, nothing is written and the
state re-sent is at worst older than one already published, which readers ignore. A
re-fold without events reads the store (see handlers.apply_person_events).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from shared.documents import Stored


class RecentPeople:
    """At most ``size`` people, the least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: OrderedDict[str, Stored] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, subjects: Iterable[str]) -> dict[str, Stored]:
        found = {}
        for subject in subjects:
            stored = self._kept.get(subject)
            if stored is not None:
                self._kept.move_to_end(subject)
                found[subject] = stored
        return found

    def keep(self, people: Iterable[Stored]) -> None:
        for stored in people:
            self._kept[stored.subject] = stored
            self._kept.move_to_end(stored.subject)
        while len(self._kept) > self._size:
            self._kept.popitem(last=False)

    def drop(self, subjects: Iterable[str]) -> None:
        for subject in subjects:
            self._kept.pop(subject, None)
