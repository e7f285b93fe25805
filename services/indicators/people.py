"""Where the indicator service's people come from when it reloads: the people topic.

The personnel service publishes a person's whole state at every revision on
``parity.personnel.people.v1``, a topic kept forever (shared/topics.py). A reload reads it
from the beginning instead of a copy of every person in the store, which spared a store
write for nearly every event: 0.67 of the 2.23 write statements per event of the
province in ``make bench``. The topic is never behind what the service consumed, and the
newest revision of each person wins, so neither the order of the records (two writers of
one person on two replicas) nor a duplicate matters. The topic is not compacted: a
compaction keeps a key's last record, which need not be its newest revision.

A reload reads the topic up to the offset the last batch with new people recorded before
it published (store.py, ``meta``), not to its end: a batch that published and then failed
to record what it published is followed by a reload that publishes its records again, with
the same versions, and those must carry the same contents. People beyond it come through
the service's consumer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.indicators.domain.person_facts import PersonFacts
from shared.envelope import PoisonRecord
from shared.internal import PEOPLE_CHANGES_TOPIC, PersonChanged, decode_change
from shared.kafka import client_options, records_to_end
from shared.settings import KafkaSettings

log = logging.getLogger("parity.indicators")


class PeopleLog(Protocol):
    async def newest(self, until: int) -> list[PersonFacts]:
        """Every person published before offset ``until``, at their newest revision."""
        ...


@dataclass
class NewestPeople:
    """The newest revision of each person among the record values taken (pure)."""

    people: dict[str, PersonFacts] = field(default_factory=dict)
    unreadable: int = 0

    def take(self, values: Iterable[bytes | None]) -> None:
        for value in values:
            try:
                change = decode_change(value)
            except PoisonRecord:
                # the service's subscriber sends it to the dead-letter topic when it reads it
                self.unreadable += 1
                continue
            if not isinstance(change, PersonChanged):
                self.unreadable += 1
                continue
            known = self.people.get(change.person_id)
            if known is None or known.revision < change.revision:
                self.people[change.person_id] = PersonFacts.of(change)


@dataclass(frozen=True)
class PeopleTopic:
    """:class:`PeopleLog` read from Kafka: the partition from its beginning to ``until``
    (what comes later, the service's consumer brings)."""

    settings: KafkaSettings
    topic: str = PEOPLE_CHANGES_TOPIC

    async def newest(self, until: int) -> list[PersonFacts]:
        consumer = AIOKafkaConsumer(
            group_id=None, enable_auto_commit=False, **client_options(self.settings)
        )
        await consumer.start()
        newest = NewestPeople()
        try:
            partition = TopicPartition(self.topic, 0)
            consumer.assign([partition])
            await consumer.seek_to_beginning(partition)
            async for records in records_to_end(consumer, partition, until=until):
                newest.take(record.value for record in records)
        finally:
            await consumer.stop()
        if newest.unreadable:
            log.warning("%s: %d records are not people changes", self.topic, newest.unreadable)
        return list(newest.people.values())
