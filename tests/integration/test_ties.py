"""The people tied to each unit (services/personnel/ties.py), on the real FerretDB and through
the running personnel service."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from services.personnel.store import PersonnelStore
from services.personnel.ties import UnitTies
from shared.contract import PERSONNEL_TOPIC, UNITS_TOPIC
from shared.store import Document
from tests import events as ev
from tests.integration.conftest import Personnel
from tests.integration.kafka_tools import eventually, produce
from tests.integration.test_personnel import person_where, seed_tree


async def test_ties_are_added_once_and_read_by_unit(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    db = mongo[database_name]
    ties = UnitTies(db["unit_people"], db["people"], db["units_ahead"])
    await ties.add({"D1": ["P1", "P2"], "D2": ["P2"]}, ahead={"D2"})
    await ties.add({"D1": ["P2", "P3"]}, ahead={"D2"})  # P2 again, D2 again: kept once
    assert await db["unit_people"].find_one({"_id": "D1"}) == {
        "_id": "D1",
        "people": ["P1", "P2", "P3"],
    }
    assert await ties.people_tied_to(["D2"]) == ["P2"]
    assert await ties.people_tied_to(["D1", "D2", "D9"]) == ["P1", "P2", "P3"]
    assert [d async for d in db["units_ahead"].find({})] == [{"_id": "D2"}]
    assert await ties.people_tied_to_units_ahead_but(set()) == 1  # P2, through D2
    assert await ties.people_tied_to_units_ahead_but({"D2"}) == 0  # D2 registered since


async def test_a_database_written_before_ties_gets_them_once(
    mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    db = mongo[database_name]
    await db["people"].insert_many(
        [
            {"_id": "P1", "rev": 1, "history": [], "tied_units": ["A", "D1"]},
            {"_id": "P2", "rev": 1, "history": [], "tied_units": ["D1"]},
        ]
    )
    store = PersonnelStore(db)
    await store.build_lookups()
    assert await store.ties.people_tied_to(["D1"]) == ["P1", "P2"]
    await db["people"].insert_one({"_id": "P3", "rev": 1, "history": [], "tied_units": ["D1"]})
    await store.build_lookups()  # done already: P3 is not picked up from its document
    assert await store.ties.people_tied_to(["D1"]) == ["P1", "P2"]
    # no unit is registered: every unit tied to is one named ahead, and P1, P2 wait
    assert sorted([d["_id"] async for d in db["units_ahead"].find({})]) == ["A", "D1"]
    assert (await store.count_pending())[0] == 2


async def test_the_service_keeps_ties_with_its_people(
    personnel: Personnel, producer: AIOKafkaProducer
) -> None:
    """Ties follow transfers (and stay behind them) and pending references, and they are
    what re-folds a person when the unit they wait for arrives; the pending gauge counts
    from them."""
    await seed_tree(producer)
    await produce(
        producer,
        PERSONNEL_TOPIC,
        [
            ev.person_registered("X1", "D1"),
            ev.transferred("X1", "D2", day=3),
            ev.person_registered("X2", "D9"),
        ],
    )
    await person_where(personnel, "X1", lambda d: d["home_unit_id"] == "D2")
    await person_where(personnel, "X2", lambda d: d["pending_units"] == ["D9"])
    store = PersonnelStore(personnel.db)
    assert await store.ties.people_tied_to(["D1"]) == ["X1"]  # a tie too many: harmless
    assert await store.ties.people_tied_to(["D2"]) == ["X1"]
    assert await store.ties.people_tied_to(["D9"]) == ["X2"]
    assert (await store.count_pending())[0] == 1

    await produce(producer, UNITS_TOPIC, [ev.unit_registered("D9", "A", day=0)])
    await person_where(personnel, "X2", lambda d: d["pending_units"] == [] and d["active"])
    assert await eventually(lambda: store.count_pending(), lambda c: c[0] == 0)
