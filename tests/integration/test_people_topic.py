"""The indicator service's reload source on the real broker (services/indicators/people.py):
the people topic read from its beginning up to the offset given, newest revision winning."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from services.indicators.people import PeopleTopic
from shared.internal import PEOPLE_CHANGES_TOPIC
from shared.settings import KafkaSettings
from tests.facts import person, record_value


async def test_the_topic_is_read_up_to_the_offset_given_and_no_further(
    fresh_topics: None, kafka_settings: KafkaSettings, producer: AIOKafkaProducer
) -> None:
    changes = [
        person("W1", revision=1, home="D1"),
        person("W1", revision=2, home="D2"),
        person("M1", revision=1, gender="male"),
        person("W1", revision=3, home="D3"),
    ]
    for change in changes:
        await producer.send_and_wait(
            PEOPLE_CHANGES_TOPIC, value=record_value(change), key=change.person_id.encode()
        )
    topic = PeopleTopic(kafka_settings)

    read = {p.person_id: (p.revision, p.home_unit_id) for p in await topic.newest(until=3)}
    assert read == {"W1": (2, "D2"), "M1": (1, "D1")}
    everything = {p.person_id: p.revision for p in await topic.newest(until=4)}
    assert everything == {"W1": 3, "M1": 1}
    assert await topic.newest(until=0) == []
