"""What the personnel service publishes when a writer dies between writing a subject and
publishing its change, on the real Kafka and FerretDB."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer

from services.personnel.changes import Change
from shared.contract import PERSONNEL_TOPIC, UNITS_TOPIC
from shared.internal import PERSON_CHANGED
from tests import events as ev
from tests.integration.conftest import Personnel
from tests.integration.kafka_tools import eventually, produce
from tests.integration.test_personnel import person_where, positions, seed_tree


@pytest.fixture
def change_sink() -> DiesBeforePublishingPeople:
    """The personnel fixture publishes its changes through this sink."""
    return DiesBeforePublishingPeople()


class DiesBeforePublishingPeople:
    """A change sink that, once armed, fails the next publication of people, as a process
    killed between writing them and publishing them would; it records what it publishes."""

    def __init__(self) -> None:
        self.armed = False
        self.published: list[Change] = []

    async def publish(self, changes: list[Change]) -> None:
        if self.armed and any(c.type == PERSON_CHANGED for c in changes):
            self.armed = False
            raise ConnectionError("the process died before publishing")
        self.published.extend(changes)

    async def person_revisions(self, person_id: str) -> list[int]:
        return [c.revision for c in self.published if c.subject == person_id]


async def test_people_written_for_a_unit_event_are_published_after_a_writer_dies(
    personnel: Personnel, change_sink: DiesBeforePublishingPeople, producer: AIOKafkaProducer
) -> None:
    """A merge re-folds the people of the closed unit. If the writer dies after writing them
    and before publishing, the redelivered merge re-folds them, finds them unchanged and
    writes nothing: the marker left behind is what gets them published."""
    await seed_tree(producer)
    await produce(producer, PERSONNEL_TOPIC, [ev.person_registered("R1", "D1")])
    registered = await person_where(personnel, "R1", lambda d: d["active"])
    await eventually(lambda: change_sink.person_revisions("R1"), bool)
    change_sink.armed = True
    await produce(producer, UNITS_TOPIC, [ev.unit_merged("D1", "D2", day=30)])
    moved = await person_where(personnel, "R1", lambda d: d["home_unit_id"] == "D2")
    assert moved["rev"] > registered["rev"]
    assert not change_sink.armed  # the publication of the moved person did fail
    revisions = await eventually(
        lambda: change_sink.person_revisions("R1"), lambda r: moved["rev"] in r
    )
    assert max(revisions) == moved["rev"]
    markers = await eventually(
        lambda: personnel.db["unpublished"].count_documents({}), lambda n: n == 0
    )
    assert markers == 0


async def test_a_person_event_whose_change_was_not_published_is_published_on_redelivery(
    personnel: Personnel, change_sink: DiesBeforePublishingPeople, producer: AIOKafkaProducer
) -> None:
    """A write made for new events is not announced by a marker: if the writer dies before
    publishing it, the events are not committed, and their redelivery finds them in the
    history and re-sends the current state."""
    await seed_tree(producer)
    await produce(producer, PERSONNEL_TOPIC, [ev.person_registered("R2", "D1")])
    # active: the tree is applied too, so no unit event re-folds R2 once the sink is armed
    # (the units and people topics have a consumer each, and either can be first)
    registered = await person_where(personnel, "R2", lambda d: d["active"])
    await eventually(lambda: change_sink.person_revisions("R2"), lambda r: registered["rev"] in r)
    change_sink.armed = True
    await produce(producer, PERSONNEL_TOPIC, [ev.appointed("R2", "D1")])
    appointed = await person_where(personnel, "R2", lambda d: positions(d) == [("D1", "head")])
    revisions = await eventually(
        lambda: change_sink.person_revisions("R2"), lambda r: appointed["rev"] in r
    )
    assert not change_sink.armed  # the first publication did fail
    assert max(revisions) == appointed["rev"]
    assert await personnel.db["unpublished"].count_documents({}) == 0
