"""What the fault tests found in ``shared.store.replace_newer``, pinned on the private
FerretDB: a batch carrying two revisions of one subject (the indicator service reads a
person's revisions 3 and 4 in one batch) used to store revision 3, so the facts a restarted
or newly owning replica reloads were stale and its indicators wrong."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from pymongo.asynchronous.collection import AsyncCollection

from shared.store import Document, make_mongo_client, replace_newer
from tests.reliability.infra import Infrastructure

pytestmark = pytest.mark.integration


@pytest.fixture
async def facts(infrastructure: Infrastructure) -> AsyncIterator[AsyncCollection[Document]]:
    client = make_mongo_client(infrastructure.mongodb_url, app_name="fault-tests")
    name = f"faults_store_{uuid.uuid4().hex[:8]}"
    yield client[name]["people"]
    await client.drop_database(name)
    await client.close()


async def test_the_highest_revision_given_in_one_call_is_stored(
    facts: AsyncCollection[Document],
) -> None:
    await facts.insert_one({"_id": "P-1", "revision": 2, "facts": "second"})
    await replace_newer(
        facts,
        [
            {"_id": "P-1", "revision": 3, "facts": "third"},
            {"_id": "P-1", "revision": 4, "facts": "fourth"},
            {"_id": "P-2", "revision": 1, "facts": "first"},
            {"_id": "P-2", "revision": 2, "facts": "second"},
            {"_id": "P-1", "revision": 1, "facts": "first"},
        ],
        revision_field="revision",
    )
    stored = {d["_id"]: (d["revision"], d["facts"]) async for d in facts.find()}
    assert stored == {"P-1": (4, "fourth"), "P-2": (2, "second")}


async def test_an_older_revision_never_replaces_a_newer_one(
    facts: AsyncCollection[Document],
) -> None:
    await facts.insert_one({"_id": "P-1", "revision": 5, "facts": "fifth"})
    await replace_newer(
        facts, [{"_id": "P-1", "revision": 4, "facts": "fourth"}], revision_field="revision"
    )
    assert await facts.find_one({"_id": "P-1"}) == {"_id": "P-1", "revision": 5, "facts": "fifth"}


async def test_a_wrong_belief_about_what_is_stored_is_read_and_corrected(
    facts: AsyncCollection[Document],
) -> None:
    """``expected`` saves the read when the caller's memory is right; when another writer
    got there (P-1 at 6, not 3; P-2 stored though believed absent), the newest still wins."""
    await facts.insert_many(
        [
            {"_id": "P-1", "revision": 6, "facts": "sixth"},
            {"_id": "P-2", "revision": 1, "facts": "first"},
            {"_id": "P-3", "revision": 2, "facts": "second"},
        ]
    )
    await replace_newer(
        facts,
        [
            {"_id": "P-1", "revision": 4, "facts": "fourth"},
            {"_id": "P-2", "revision": 2, "facts": "second"},
            {"_id": "P-3", "revision": 3, "facts": "third"},
        ],
        revision_field="revision",
        expected={"P-1": 3, "P-3": 2},
    )
    stored = {d["_id"]: (d["revision"], d["facts"]) async for d in facts.find()}
    assert stored == {"P-1": (6, "sixth"), "P-2": (2, "second"), "P-3": (3, "third")}
