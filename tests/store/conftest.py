"""Every store test runs against each database the bot supports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.store.database import Database
from bot.store.postgres import PostgresDatabase
from bot.store.sqlite import SqliteDatabase

OpenDatabase = Callable[[], Awaitable[Database]]


@pytest.fixture(params=["sqlite", "postgresql"])
async def connect(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OpenDatabase]:
    """Open another connection (pool) to the same database: two replicas, in one test."""
    if request.param == "sqlite":
        path = tmp_path / "contract.sqlite3"

        def make() -> Database:
            return SqliteDatabase(path)
    else:
        url = request.getfixturevalue("postgres_url")

        def make() -> Database:
            return PostgresDatabase(url)

    opened: list[Database] = []

    async def open_one() -> Database:
        db = make()
        await db.open()
        opened.append(db)
        return db

    yield open_one
    for db in opened:
        await db.close()


@pytest.fixture
async def database(connect: OpenDatabase) -> Database:
    return await connect()
