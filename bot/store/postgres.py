"""PostgreSQL through psycopg 3's async driver and its connection pool.

Nothing blocks the event loop: every call is awaited on the pool's async connections.
A transaction that fails because the connection did (the server restarting, a
fail-over, a pool timeout) is run again on a fresh connection with backoff for up to
`retry_seconds`, so a short outage delays the bot instead of failing it; the work given
to `transact` touches only the database, so running it again is safe.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from bot import logs
from bot.store.database import Dialect, Row, Tx
from bot.store.migrations import migrate
from bot.store.passwords import PasswordSource, UrlPassword

T = TypeVar("T")
log = logging.getLogger("bot.store")
Connection = psycopg.AsyncConnection[dict[str, Any]]


@functools.lru_cache(maxsize=256)
def _placeholders(sql: str) -> str:
    """The stores write `?` (SQLite's style); psycopg wants `%s`."""
    return sql.replace("?", "%s")


class PostgresTx:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self._conn.execute(_placeholders(sql), params)
        return cursor.rowcount

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = await self._conn.execute(_placeholders(sql), params)
        return await cursor.fetchall() if cursor.description else []


class PostgresDatabase:
    dialect = Dialect.POSTGRES

    def __init__(
        self,
        url: str,
        password: PasswordSource | None = None,
        *,
        max_connections: int = 10,
        retry_seconds: float = 30.0,
    ) -> None:
        self.url = url
        self.password = password or UrlPassword()
        self.max_connections = max_connections
        self.retry_seconds = retry_seconds
        self._pool: AsyncConnectionPool[Connection] | None = None

    async def _connect_arguments(self) -> dict[str, Any]:
        # Autocommit: `transact` opens its transactions itself, and a one-query read is
        # then one round trip instead of three.
        arguments: dict[str, Any] = {
            "row_factory": dict_row,
            "connect_timeout": 10,
            "autocommit": True,
        }
        password = await self.password.password()
        if password is not None:
            arguments["password"] = password
        return arguments

    async def open(self) -> None:
        pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            self.url,
            connection_class=psycopg.AsyncConnection[dict[str, Any]],
            kwargs=self._connect_arguments,
            min_size=1,
            max_size=self.max_connections,
            timeout=min(10.0, self.retry_seconds),
            open=False,
            name="bot",
        )
        await pool.open(wait=False)
        self._pool = pool
        await migrate(self)

    async def _run(self, work: Callable[[Tx], Awaitable[T]], *, transaction: bool) -> T:
        if self._pool is None:
            raise RuntimeError("the database is not open")
        deadline = time.monotonic() + self.retry_seconds
        delay = 0.1
        while True:
            try:
                async with self._pool.connection() as conn:
                    if not transaction:
                        return await work(PostgresTx(conn))
                    async with conn.transaction():
                        return await work(PostgresTx(conn))
            except psycopg.OperationalError as exc:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning(
                    "store.retry",
                    extra=logs.fields(error=type(exc).__name__, delay=round(delay, 2)),
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def transact(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        return await self._run(work, transaction=True)

    async def read(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Each statement on its own: the stores' reads are single queries."""
        return await self._run(work, transaction=False)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
