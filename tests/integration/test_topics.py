"""Topic configuration on the real broker (shared/kafka.py): the people topic is kept
forever, also when it already existed with the broker's default retention."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from shared.internal import PEOPLE_CHANGES_TOPIC
from shared.kafka import TopicSpec, client_options, ensure_topics, internal_topics, topic_configs
from shared.settings import KafkaSettings


@pytest.fixture
async def admin(kafka_settings: KafkaSettings) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(**client_options(kafka_settings))
    await client.start()
    yield client
    await client.close()


async def configs(admin: AIOKafkaAdminClient, topic: str) -> dict[str, str]:
    return (await topic_configs(admin, [topic]))[topic]


def test_the_people_topic_is_kept_forever_and_not_compacted() -> None:
    [people] = [s for s in internal_topics() if s.name == PEOPLE_CHANGES_TOPIC]
    assert people.kept_forever
    assert not people.compacted


async def test_a_topic_kept_forever_is_configured_so_even_when_it_exists(
    kafka_settings: KafkaSettings, admin: AIOKafkaAdminClient
) -> None:
    topic = f"kept-{uuid.uuid4().hex[:8]}"
    try:
        await ensure_topics(kafka_settings, [TopicSpec(topic, 1)])
        before = await configs(admin, topic)
        assert before["retention.ms"] != "-1"

        created = await ensure_topics(kafka_settings, [TopicSpec(topic, 1, kept_forever=True)])
        assert created == []
        after = await configs(admin, topic)
        assert (after["retention.ms"], after["retention.bytes"]) == ("-1", "-1")
        assert after["cleanup.policy"] == "delete"
        assert after["max.message.bytes"] == before["max.message.bytes"]
        assert await ensure_topics(kafka_settings, [TopicSpec(topic, 1, kept_forever=True)]) == []
    finally:
        await admin.delete_topics([topic])
