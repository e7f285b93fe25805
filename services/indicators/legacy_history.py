"""Reading the indicator history as it was written before pages (see store.py).

Then every published record was its own ``indicator_history`` document, ``_id`` =
``<unit_id>:<version>``, and ``unit_status`` held, per unit, a checkpoint into it every
16th version (earlier still, the whole record). A unit's last record is found by reading
``<unit_id>:<version + 1>`` from its checkpoint (from ``<unit_id>:1`` without one) until
there is none. Nothing here writes: the service reads such a store once, on its first
start after pages came, and from then on its snapshot says where every record is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from pymongo.asynchronous.database import AsyncDatabase

from services.indicators.domain.publication import Published
from shared.documents import unpacked
from shared.store import Document, find_by_ids

LOAD_CHUNK = 1000  # units read together
HISTORY_FIELDS = ("_id", "version", "as_of", "as_of_utc")  # a record beyond its content
T = TypeVar("T")


async def last_records_as(
    db: AsyncDatabase[Document],
    keep: Callable[[Published], T],
    unit_ids: Iterable[str] = (),
) -> dict[str, T]:
    """The last record of every unit with a checkpoint or among ``unit_ids``, each passed
    through ``keep`` as it is read, ``LOAD_CHUNK`` units at a time (8,400 units' records
    are about 40 MB as Python dicts: a caller keeping less never holds them all)."""
    checkpoints = {d["_id"]: d async for d in db["unit_status"].find({}, {"as_of": 0})}
    units = list(dict.fromkeys([*checkpoints, *unit_ids]))
    kept: dict[str, T] = {}
    for start in range(0, len(units), LOAD_CHUNK):
        chunk = units[start : start + LOAD_CHUNK]
        last = await _last_records(db, {u: checkpoints.get(u) for u in chunk})
        kept |= {unit_id: keep(record) for unit_id, record in last.items()}
    return kept


async def _last_records(
    db: AsyncDatabase[Document], checkpoints: Mapping[str, Document | None]
) -> dict[str, Published]:
    """The last record of each unit given with its checkpoint (None: it has none)."""
    history = db["indicator_history"]
    present = {u: c for u, c in checkpoints.items() if c is not None}
    latest = await find_by_ids(history, (f"{u}:{c['version']}" for u, c in present.items()))
    found = {}
    for unit_id, checkpoint in present.items():
        record = latest.get(f"{unit_id}:{checkpoint['version']}")
        if record is not None:
            found[unit_id] = legacy_record(record)
        elif "content" in checkpoint:  # written when the checkpoint held the record
            found[unit_id] = Published(unit_id, checkpoint["version"], checkpoint["content"])
        else:
            raise RuntimeError(f"indicator_history lacks {unit_id}:{checkpoint['version']}")
    versions = {u: 0 for u in checkpoints} | {u: r.version for u, r in found.items()}
    while versions:  # records beyond the checkpoints
        read = await find_by_ids(history, (f"{u}:{v + 1}" for u, v in versions.items()))
        newer = [legacy_record(document) for document in read.values()]
        found |= {r.unit_id: r for r in newer}
        versions = {r.unit_id: r.version for r in newer}
    return found


def legacy_record(document: Document) -> Published:
    content = {k: v for k, v in document.items() if k not in HISTORY_FIELDS}
    content["indicators"] = unpacked(content["indicators"])
    return Published(document["unit_id"], document["version"], content)
