"""The people this process last read or wrote, as stored: a bounded cache (pure).

A batch of person events read every person it names from the store first: about a sixth of
the personnel service's time in ``make bench`` (bench/RESULTS.md). A person with new events
may instead start from the copy this process kept when it last wrote or read them. The
write that follows is a compare-and-set on the revision, so a copy that another writer
made stale (a replica, a re-fold for a unit event) costs a retry from a fresh read, never
an update; and when the new events turn out to be duplicates, nothing is written and the
state re-sent is at worst older than one already published, which readers ignore. A
re-fold without events reads the store (see handlers.apply_person_events).

Each person is kept as the BSON of their document, as a read would return it: about a
third of the memory of the decoded document (objects of 50,000 people of the
290,000-record province took the service from 125 MB to 375 MB), decoded again on use.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

import bson
from bson.codec_options import CodecOptions

from shared.documents import Stored, Write, stored_from_document
from shared.store import Document


class RecentPeople:
    """At most ``size`` people, the least recently used dropped first."""

    def __init__(self, size: int, codec_options: CodecOptions[Document] | None = None) -> None:
        self._size = size
        self._codec: CodecOptions[Document] = codec_options or CodecOptions(tz_aware=True)
        self._kept: OrderedDict[str, bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, subjects: Iterable[str]) -> dict[str, Stored]:
        found = {}
        for subject in subjects:
            kept = self._kept.get(subject)
            if kept is not None:
                self._kept.move_to_end(subject)
                found[subject] = stored_from_document(bson.decode(kept, self._codec))
        return found

    def keep(self, people: Iterable[Stored]) -> None:
        if not self._size:
            return
        for stored in people:
            written = Write(stored.subject, stored.rev - 1, stored.fields, stored.history)
            self._kept[stored.subject] = bson.encode(written.document(), codec_options=self._codec)
            self._kept.move_to_end(stored.subject)
        while len(self._kept) > self._size:
            self._kept.popitem(last=False)

    def drop(self, subjects: Iterable[str]) -> None:
        for subject in subjects:
            self._kept.pop(subject, None)
