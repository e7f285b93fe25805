"""MongoDB access through PyMongo's native async client (the maintained successor of Motor).

Code here and in the services uses only what MongoDB 7 and FerretDB 1.24 both support:
single-document atomic writes, bulk writes, indexes, simple aggregations.
"""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


def make_mongo_client(url: str, *, app_name: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(url, tz_aware=True, appname=app_name, serverSelectionTimeoutMS=10_000)


def database(client: AsyncMongoClient[Document], name: str) -> AsyncDatabase[Document]:
    return client[name]


async def ping(client: AsyncMongoClient[Document]) -> bool:
    try:
        await client.admin.command("ping")
    except Exception:  # any failure means "not healthy"; the caller reports it
        return False
    return True
