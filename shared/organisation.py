"""The organisation tree as the personnel service publishes it (``parity.personnel.units.v1``).

A service that needs the tree (indicators, inspections, notifications) keeps it in memory:
the topic is kept forever and small, so :class:`UnitsFeed` reads it from the beginning when
the service starts (no consumer group, nothing committed) and then follows it. Every
record carries a unit's whole placement, ``path`` included, so :class:`Organisation` is a
plain map with queries; it keeps the highest ``revision`` per unit, which makes a replay
or a duplicate harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.envelope import PoisonRecord
from shared.internal import UNIT_CHANGES_TOPIC, UnitChanged, decode_change
from shared.kafka import client_options, records_to_end
from shared.settings import KafkaSettings

log = logging.getLogger(__name__)
UNITS_PARTITION = TopicPartition(UNIT_CHANGES_TOPIC, 0)  # the topic's only partition


@dataclass
class Organisation:
    """The latest known state of every unit, keyed by id."""

    units: dict[str, UnitChanged] = field(default_factory=dict)

    def apply(self, unit: UnitChanged) -> bool:
        """Take a unit's state unless a newer one is known; True when it changed anything."""
        known = self.units.get(unit.unit_id)
        if known is not None and known.revision >= unit.revision:
            return False
        self.units[unit.unit_id] = unit
        return True

    def get(self, unit_id: str) -> UnitChanged | None:
        return self.units.get(unit_id)

    def restore(self, unit_id: str, known: UnitChanged | None) -> None:
        """Put back what was known of a unit before an :meth:`apply` (None: nothing)."""
        if known is None:
            self.units.pop(unit_id, None)
        else:
            self.units[unit_id] = known

    def is_active(self, unit_id: str) -> bool:
        unit = self.units.get(unit_id)
        return bool(unit and unit.registered and unit.active)

    def ancestors_and_self(self, unit_id: str) -> list[str]:
        """The unit and its ancestors, nearest first (just the unit when it is unknown)."""
        unit = self.units.get(unit_id)
        return [unit_id, *reversed(unit.path)] if unit else [unit_id]

    def subtree(self, unit_id: str) -> Iterator[UnitChanged]:
        """The unit and every unit under it, as the tree stands now (closed ones included)."""
        for unit in self.units.values():
            if unit.unit_id == unit_id or unit_id in unit.path:
                yield unit

    def active_units(self) -> Iterable[UnitChanged]:
        return (u for u in self.units.values() if u.registered and u.active)


def decode_unit(value: bytes | None) -> UnitChanged | None:
    """A unit change from one record of the units topic (None for anything else).

    Only the personnel service writes the topic, so an unreadable record is a bug there: it
    is logged as an error and skipped, since stopping would leave every reader blind (the
    indicator service, which consumes the topic in its group, sends such a record to the
    dead-letter topic instead).
    """
    try:
        change = decode_change(value)
    except PoisonRecord as error:
        log.error("unreadable record on %s skipped: %s", UNIT_CHANGES_TOPIC, error)
        return None
    return change if isinstance(change, UnitChanged) else None


OnUnit = Callable[[UnitChanged], Awaitable[None]]


class UnitsFeed:
    """Reads the units topic from the beginning, then follows it.

    :meth:`start` returns once everything published before it is read, so a service has the
    whole tree before it consumes anything else; ``on_unit`` runs for each unit whose state
    changed (during the catch-up too). :meth:`caught_up` waits, later, until everything
    published before it is read: a record of another topic that names a unit the personnel
    service published a moment ago may arrive before the unit does.
    """

    retry_seconds = 1.0  # after a failure while following
    catch_up_timeout_seconds = 10.0

    def __init__(
        self, settings: KafkaSettings, organisation: Organisation, on_unit: OnUnit | None = None
    ) -> None:
        self._settings = settings
        self.organisation = organisation
        self._on_unit = on_unit
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._read_to = 0  # the offset after the last record applied
        self._moved = asyncio.Condition()

    async def start(self) -> None:
        consumer = self._consumer = AIOKafkaConsumer(
            group_id=None, enable_auto_commit=False, **client_options(self._settings)
        )
        await consumer.start()
        consumer.assign([UNITS_PARTITION])
        await consumer.seek_to_beginning(UNITS_PARTITION)
        async for records in records_to_end(consumer, UNITS_PARTITION):
            try:
                await self._apply(records)
            except _Unapplied as failed:  # the service cannot start without its tree
                raise failed.error from None
        self._read_to = await consumer.position(UNITS_PARTITION)
        self._task = asyncio.create_task(self._follow(consumer), name="units-feed")

    async def caught_up(self) -> None:
        """Return once every unit change published before the call is in the organisation
        (TimeoutError after ``catch_up_timeout_seconds``: Kafka cannot be reached, say)."""
        if self._consumer is None:
            raise RuntimeError("the units feed is not started")
        async with asyncio.timeout(self.catch_up_timeout_seconds):
            end = (await self._consumer.end_offsets([UNITS_PARTITION]))[UNITS_PARTITION]
            async with self._moved:
                await self._moved.wait_for(lambda: self._read_to >= end)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.stop()

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        """Follow the topic for good: a failure is logged, and reading goes on after a
        pause (a task that died would leave the tree as it was, and nothing would say so)."""
        while True:
            try:
                await self._take(consumer, timeout_ms=1000)
            except Exception:
                log.exception(
                    "following %s failed; reading on in %.1f s",
                    UNIT_CHANGES_TOPIC,
                    self.retry_seconds,
                )
                await asyncio.sleep(self.retry_seconds)

    async def _take(self, consumer: AIOKafkaConsumer, *, timeout_ms: int) -> None:
        batches = await consumer.getmany(UNITS_PARTITION, timeout_ms=timeout_ms, max_records=1000)
        records = batches.get(UNITS_PARTITION, [])
        try:
            await self._apply(records)
        except _Unapplied as failed:
            # The consumer's position is past the chunk already: read again from the record
            # that failed, so that neither it nor the ones after it are skipped.
            consumer.seek(UNITS_PARTITION, failed.offset)
            await self._advance(failed.offset)
            raise failed.error from None
        if records:
            await self._advance(records[-1].offset + 1)

    async def _advance(self, read_to: int) -> None:
        async with self._moved:
            self._read_to = max(self._read_to, read_to)
            self._moved.notify_all()

    async def _apply(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Apply the records in order; should ``on_unit`` fail, the unit is taken back out
        of the organisation (reading it again runs ``on_unit`` again) and :class:`_Unapplied`
        says from which offset to read again."""
        for record in records:
            unit = decode_unit(record.value)
            if unit is None:
                continue
            before = self.organisation.get(unit.unit_id)
            if not (self.organisation.apply(unit) and self._on_unit):
                continue
            try:
                await self._on_unit(unit)
            except Exception as error:
                self.organisation.restore(unit.unit_id, before)
                raise _Unapplied(record.offset, error) from error


class _Unapplied(Exception):
    """``error`` stopped :meth:`UnitsFeed._apply` at the record at ``offset``."""

    def __init__(self, offset: int, error: Exception) -> None:
        super().__init__(offset, error)
        self.offset = offset
        self.error = error
