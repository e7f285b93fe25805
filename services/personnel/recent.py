"""The people this process last wrote, as stored: a bounded cache (pure).

A batch of person events read every person it names from the store first: about a sixth of
the personnel service's time in ``make bench`` (bench/RESULTS.md). A person with new events
may instead start from the copy this process kept when it last wrote them. The
write that follows is a compare-and-set on the revision, so a copy that another writer
made stale (a replica, a re-fold for a unit event) costs a retry from a fresh read, never
an update; and when the new events turn out to be duplicates, nothing is written and the
state re-sent is at worst older than one already published, which readers ignore. A
re-fold without events reads the store (see handlers.apply_person_events).

Each person is kept as the BSON of the document written, compressed (zlib, level 1), and
decoded again on use, as a read would decode it. Kept as decoded objects, 50,000 people of
the 290,000-record province took the service to 375 MB; as BSON, 20,000 of them left it at
148 MB (bench/RESULTS-300k.md). Compressed, a person takes about half the bytes, for about
40 µs to compress and 15 µs to decompress: small beside a read from the store, which a
person missing here costs.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import bson
from bson.codec_options import CodecOptions

from shared.documents import Stored, Write, stored_from_document
from shared.store import Document

COMPRESSION_LEVEL = 1  # level 6 saved 3% more bytes for 10% more time


class RecentPeople:
    """At most ``size`` people, the least recently used dropped first."""

    def __init__(self, size: int, codec_options: CodecOptions[Document] | None = None) -> None:
        self._size = size
        self._codec: CodecOptions[Document] = codec_options or CodecOptions(tz_aware=True)
        self._kept: OrderedDict[str, bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def kept_bytes(self) -> int:
        """The bytes of the people kept (their compressed BSON)."""
        return sum(map(len, self._kept.values()))

    def get(self, subjects: Iterable[str]) -> dict[str, Stored]:
        found = {}
        for subject in subjects:
            kept = self._kept.get(subject)
            if kept is not None:
                self._kept.move_to_end(subject)
                document = bson.decode(zlib.decompress(kept), self._codec)
                found[subject] = stored_from_document(document)
        return found

    def keep(self, written: Iterable[Write]) -> None:
        """People as the writes that landed left them (while paused, their copies are
        dropped: they are stale)."""
        if not self._size:
            self.drop(write.subject for write in written)
            return
        for write in written:
            encoded = bson.encode(write.document, codec_options=self._codec)
            self._kept[write.subject] = zlib.compress(encoded, COMPRESSION_LEVEL)
            self._kept.move_to_end(write.subject)
        while len(self._kept) > self._size:
            self._kept.popitem(last=False)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Keep nobody meanwhile: a bulk catch-up (catch_up.py) writes each person once and
        reads nobody again; kept, the 290,000-record province's people took the service to
        267 MB. Those written meanwhile are dropped."""
        size, self._size = self._size, 0
        try:
            yield
        finally:
            self._size = size

    def drop(self, subjects: Iterable[str]) -> None:
        for subject in subjects:
            self._kept.pop(subject, None)
