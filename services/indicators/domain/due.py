"""When each person's contribution next changes by itself (pure).

A contribution can hold until an instant: a training qualifies for five years, to the
microsecond. :class:`DueTimes` keeps that instant per person and answers "whose is due by
now?" without looking at everyone: a heap of (instant, person), where an entry that no
longer matches the person's current instant is dropped when it comes up. Every batch asks,
so that what a batch publishes is what a rebuild at the same instant would publish (a reload
computes at the instant the last batch published at, see handlers.py).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime

# The heap is rebuilt from the current instants when its outdated entries outnumber them.
SLACK = 1024


@dataclass
class DueTimes:
    _until: dict[str, datetime] = field(default_factory=dict)
    _heap: list[tuple[datetime, str]] = field(default_factory=list)

    def put(self, person_id: str, until: datetime | None) -> None:
        """The person's contribution holds until ``until`` (None: for good)."""
        if until is None:
            self._until.pop(person_id, None)
            return
        if self._until.get(person_id) == until:
            return
        self._until[person_id] = until
        heapq.heappush(self._heap, (until, person_id))
        if len(self._heap) > 2 * len(self._until) + SLACK:
            self._heap = [(u, p) for p, u in self._until.items()]
            heapq.heapify(self._heap)

    def due(self, now: datetime) -> set[str]:
        """The people whose contribution changes at or before ``now``. They stay due until
        :meth:`put` is called for them again."""
        found: set[str] = set()
        while self._heap and self._heap[0][0] <= now:
            until, person_id = heapq.heappop(self._heap)
            if self._until.get(person_id) == until:
                found.add(person_id)
        for person_id in found:  # back in: due until re-derived
            heapq.heappush(self._heap, (self._until[person_id], person_id))
        return found

    def clear(self) -> None:
        self._until.clear()
        self._heap.clear()

    def __len__(self) -> int:
        return len(self._until)
