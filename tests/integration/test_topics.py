"""Topic configuration on the real broker (shared/topics.py): the internal topics are kept
forever and not compacted, also when they already existed with the broker's default
retention or compacted."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import InvalidReplicationFactorError

from services.notifications.app import topic_specs
from services.notifications.settings import NotificationsSettings
from shared.internal import INSPECTION_STATUS_TOPIC, PEOPLE_CHANGES_TOPIC, UNIT_CHANGES_TOPIC
from shared.kafka import client_options
from shared.settings import KafkaSettings
from shared.topics import TopicSpec, ensure_topics, internal_topics, topic_configs


@pytest.fixture
async def admin(kafka_settings: KafkaSettings) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(**client_options(kafka_settings))
    await client.start()
    yield client
    await client.close()


async def configs(admin: AIOKafkaAdminClient, topic: str) -> dict[str, str]:
    return (await topic_configs(admin, [topic]))[topic]


async def configs_once_they_show(
    admin: AIOKafkaAdminClient, topic: str, expected: dict[str, str]
) -> dict[str, str]:
    """The topic's configuration once it shows ``expected`` (5 s at most): the broker answers
    DescribeConfigs from its copy of the metadata, which follows an alteration a moment
    later."""
    deadline = asyncio.get_running_loop().time() + 5.0
    while True:
        found = await configs(admin, topic)
        shown = {k: found.get(k) for k in expected}
        if shown == expected or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.05)


STATE_TOPICS = (PEOPLE_CHANGES_TOPIC, UNIT_CHANGES_TOPIC, INSPECTION_STATUS_TOPIC)


@pytest.mark.parametrize("topic", STATE_TOPICS)
def test_an_internal_state_topic_is_kept_forever_and_not_compacted(topic: str) -> None:
    """Its readers keep each subject's highest revision: compaction keeps the last record
    of a key, which two writers of a subject can make an older revision."""
    [spec] = [s for s in internal_topics() if s.name == topic]
    assert spec.kept_forever
    assert not spec.compacted


def test_the_notification_service_asks_for_the_same_configuration(
    kafka_settings: KafkaSettings, mongodb_url: str
) -> None:
    settings = NotificationsSettings(mongodb_url=mongodb_url, kafka=kafka_settings)
    specs = {s.name: s for s in topic_specs(settings)}
    for topic in STATE_TOPICS:
        assert specs[topic].kept_forever, topic
        assert not specs[topic].compacted, topic


@pytest.mark.parametrize("compacted", [False, True])
async def test_a_topic_kept_forever_is_configured_so_even_when_it_exists(
    kafka_settings: KafkaSettings, admin: AIOKafkaAdminClient, compacted: bool
) -> None:
    topic = f"kept-{uuid.uuid4().hex[:8]}"
    try:
        await ensure_topics(kafka_settings, [TopicSpec(topic, 1, compacted=compacted)])
        before = await configs(admin, topic)
        assert before["retention.ms"] != "-1"
        assert before["cleanup.policy"] == ("compact" if compacted else "delete")

        created = await ensure_topics(kafka_settings, [TopicSpec(topic, 1, kept_forever=True)])
        assert created == []
        kept = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}
        after = await configs_once_they_show(admin, topic, kept)
        assert (after["retention.ms"], after["retention.bytes"]) == ("-1", "-1")
        assert after["cleanup.policy"] == "delete"
        assert after["max.message.bytes"] == before["max.message.bytes"]
        assert await ensure_topics(kafka_settings, [TopicSpec(topic, 1, kept_forever=True)]) == []
    finally:
        await admin.delete_topics([topic])


async def test_reconfiguring_a_topic_keeps_the_settings_parity_does_not_manage(
    kafka_settings: KafkaSettings, admin: AIOKafkaAdminClient
) -> None:
    """AlterConfigs replaces a topic's whole dynamic configuration: an operator's setting
    must survive Parity giving the topic its retention."""
    topic = f"kept-{uuid.uuid4().hex[:8]}"
    try:
        await ensure_topics(kafka_settings, [TopicSpec(topic, 1)])
        operators = {"segment.ms": "3600000", "message.timestamp.type": "LogAppendTime"}
        [response] = await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, operators)]
        )
        assert [r[0] for r in response.resources] == [0]
        await configs_once_they_show(admin, topic, operators)

        await ensure_topics(kafka_settings, [TopicSpec(topic, 1, kept_forever=True)])
        kept = {"retention.ms": "-1", "retention.bytes": "-1"}
        after = await configs_once_they_show(admin, topic, kept)
        assert (after["retention.ms"], after["retention.bytes"]) == ("-1", "-1")
        assert {k: after[k] for k in operators} == operators
    finally:
        await admin.delete_topics([topic])


async def test_a_topic_the_broker_refuses_to_create_stops_the_start_up(
    kafka_settings: KafkaSettings, admin: AIOKafkaAdminClient
) -> None:
    """aiokafka reports a refused creation as an error code, not an exception: a
    replication factor the one-broker cluster cannot give must not pass for created."""
    name = f"test-refused-{uuid.uuid4().hex[:8]}"
    three = kafka_settings.model_copy(update={"replication_factor": 3})
    with pytest.raises(InvalidReplicationFactorError, match=name):
        await ensure_topics(three, [TopicSpec(name, 1)])
    assert name not in await admin.list_topics()
    assert await ensure_topics(kafka_settings, [TopicSpec(name, 1)]) == [name]
    assert await ensure_topics(kafka_settings, [TopicSpec(name, 1)]) == []  # it exists now
    await admin.delete_topics([name])
