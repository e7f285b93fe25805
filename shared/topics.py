"""The topics Parity uses and their creation: which exist, how many partitions, kept how.

Nothing connects at import time; ``ensure_topics`` takes the settings it needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code

from shared.contract import INBOUND_TOPICS, INDICATORS_TOPIC, NOTIFICATIONS_TOPIC, dead_letter_topic
from shared.internal import INSPECTION_STATUS_TOPIC, PEOPLE_CHANGES_TOPIC, UNIT_CHANGES_TOPIC
from shared.kafka import client_options
from shared.settings import KafkaSettings

TOPIC_MAX_MESSAGE_BYTES = str(4 * 1024 * 1024)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    compacted: bool = False
    # Never deleted for age or size: a reader rebuilds its state from the whole log
    kept_forever: bool = False

    def configs(self) -> dict[str, str]:
        configs = {
            "max.message.bytes": TOPIC_MAX_MESSAGE_BYTES,
            "cleanup.policy": "compact" if self.compacted else "delete",
        }
        if self.kept_forever:
            configs |= {"retention.ms": "-1", "retention.bytes": "-1"}
        return configs


def feed_topic(name: str, partitions: int) -> TopicSpec:
    """The indicator feed (or a test's copy of it): compacted, a unit's last record is its
    status."""
    return TopicSpec(name, partitions, compacted=True)


def state_topic(name: str) -> TopicSpec:
    """A topic between Parity's services (or a test's copy of one); see internal_topics."""
    return TopicSpec(name, 1, kept_forever=True)


def contract_topics(partitions: int) -> list[TopicSpec]:
    """The contract's topics: inbound ones with their dead-letter topics, and the outbound feeds.

    ``hr.units.v1`` has one partition: the organisation tree is one structure whose derived
    paths must be computed by one writer, and unit events are few.
    """
    specs = []
    for topic in INBOUND_TOPICS:
        count = 1 if topic == "hr.units.v1" else partitions
        specs += [TopicSpec(topic, count), TopicSpec(dead_letter_topic(topic), 1)]
    specs += [
        feed_topic(INDICATORS_TOPIC, partitions),
        TopicSpec(NOTIFICATIONS_TOPIC, partitions),
    ]
    return specs


def internal_topics() -> list[TopicSpec]:
    """The topics between Parity's services (see ``shared.internal``).

    Each has one partition: its single consumer, the indicators service, keeps the whole
    province in memory and must see every change of it in order. Each is kept forever and
    none is compacted: readers rebuild their state from the whole log (the indicator service
    its people, every reader of the tree its units), keeping the highest revision of each
    subject. Compaction keeps a key's last record, and with two writers of a subject (two
    replicas, or a replica's sweep) the last record published need not be the newest
    revision: a reader starting after compaction would keep the older state for good.
    """
    specs = [
        state_topic(PEOPLE_CHANGES_TOPIC),
        state_topic(UNIT_CHANGES_TOPIC),
        state_topic(INSPECTION_STATUS_TOPIC),
    ]
    return specs + [TopicSpec(dead_letter_topic(s.name), 1) for s in specs]


def all_topics(partitions: int) -> list[TopicSpec]:
    return [*contract_topics(partitions), *internal_topics()]


async def ensure_topics(settings: KafkaSettings, specs: Iterable[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet; returns the names created.

    A topic kept forever that exists is given its configuration again: one created by an
    older version, or by hand, with the broker's default retention would lose the records
    a reader rebuilds from."""
    admin = AIOKafkaAdminClient(client_id="parity-admin", **client_options(settings))
    await admin.start()
    try:
        specs = list(specs)
        existing = set(await admin.list_topics())
        wanted = [spec for spec in specs if spec.name not in existing]
        new_topics = [
            NewTopic(
                name=spec.name,
                num_partitions=spec.partitions,
                replication_factor=settings.replication_factor,
                topic_configs=spec.configs(),
            )
            for spec in wanted
        ]
        if new_topics:
            _raise_creation_errors(await admin.create_topics(new_topics))
        kept = [s for s in specs if s.kept_forever and s.name in existing]
        if kept:
            await _configure(admin, kept)
        return [spec.name for spec in wanted]
    finally:
        await admin.close()


def _raise_creation_errors(response: Any) -> None:
    """aiokafka answers CreateTopics with each topic's error code instead of raising: raise
    the first, but a topic another service created between our list and our create."""
    for topic_error in response.topic_errors:
        topic, code = topic_error[0], topic_error[1]
        message = topic_error[2] if len(topic_error) > 2 else None
        if code and code != TopicAlreadyExistsError.errno:
            raise for_code(code)(f"creating topic {topic}: {message or 'refused'}")


# DescribeConfigs' source of an entry set on the topic itself (KIP-226)
DYNAMIC_TOPIC_CONFIG = 1


async def _configure(admin: AIOKafkaAdminClient, specs: list[TopicSpec]) -> None:
    """Give existing topics their configuration where it differs. Only then: altering needs
    a permission that reading does not. AlterConfigs replaces the topic's whole dynamic
    configuration, so the settings it has that Parity does not manage (set by an operator,
    say) are sent again with Parity's."""
    current = await _described(admin, [s.name for s in specs])
    differing = [
        s
        for s in specs
        if any(current[s.name].get(k, (None,))[0] != v for k, v in s.configs().items())
    ]
    if not differing:
        return
    resources = [
        ConfigResource(
            ConfigResourceType.TOPIC,
            s.name,
            {
                key: value
                for key, (value, source) in current[s.name].items()
                if source == DYNAMIC_TOPIC_CONFIG and value is not None
            }
            | s.configs(),
        )
        for s in differing
    ]
    for response in await admin.alter_configs(resources):
        for code, message, _, name in response.resources:
            if code:
                raise for_code(code)(f"configuring topic {name}: {message}")


async def topic_configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    """Every configuration entry of each topic, defaults included."""
    described = await _described(admin, names)
    return {
        name: {k: value for k, (value, _) in entries.items()} for name, entries in described.items()
    }


async def _described(
    admin: AIOKafkaAdminClient, names: list[str]
) -> dict[str, dict[str, tuple[str, int]]]:
    """Each topic's configuration entries: (value, source)."""
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    found: dict[str, dict[str, tuple[str, int]]] = {}
    for response in await admin.describe_configs(resources):
        for code, message, _, name, entries in response.resources:
            if code:
                raise for_code(code)(f"describing topic {name}: {message}")
            found[name] = {entry[0]: (entry[1], entry[3]) for entry in entries}
    return found
