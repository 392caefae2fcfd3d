"""SQLite: one file, one connection, used from one worker thread.

SQLite calls block, so none runs on the event loop: each statement is handed to a
dedicated thread (one thread keeps the connection thread-affine). Transactions take an
asyncio lock, so the coroutines sharing the one connection never interleave inside a
transaction, and BEGIN IMMEDIATE, so a second process on the same file waits its turn.
WAL lets readers work during a write and survives `kill -9` with nothing committed lost.

Times are stored as fixed-width UTC ISO text (see `sqlite_time`), so they sort.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from bot.store.database import Dialect, Row, Tx, sqlite_time
from bot.store.migrations import migrate

T = TypeVar("T")
BUSY_SECONDS = 5.0  # how long a statement waits for another process's lock on the file


def _switch_to_wal(conn: sqlite3.Connection) -> None:
    """Two processes opening a new file at once both switch it to WAL. SQLite answers the
    loser "database is locked" at once, without its busy handler (waiting could deadlock),
    so the switch is retried here for up to BUSY_SECONDS. Runs on the store's own thread."""
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _param(value: Any) -> Any:
    return sqlite_time(value) if isinstance(value, datetime) else value


class SqliteTx:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        values = [_param(p) for p in params]
        return await self._db._call(lambda conn: conn.execute(sql, values).rowcount)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        values = [_param(p) for p in params]

        def run(conn: sqlite3.Connection) -> list[Row]:
            return [dict(r) for r in conn.execute(sql, values).fetchall()]

        return await self._db._call(run)


class SqliteDatabase:
    dialect = Dialect.SQLITE

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._conn: sqlite3.Connection | None = None
        self._lock: asyncio.Lock | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_SECONDS
            )
            conn.row_factory = sqlite3.Row
            _switch_to_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._conn = conn
        return self._conn

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._connect()))

    async def open(self) -> None:
        await migrate(self)

    async def _run(self, work: Callable[[Tx], Awaitable[T]], begin: str) -> T:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            await self._call(lambda conn: conn.execute(begin))
            try:
                result = await work(SqliteTx(self))
            except BaseException:
                await self._call(lambda conn: conn.execute("ROLLBACK"))
                raise
            await self._call(lambda conn: conn.execute("COMMIT"))
            return result

    async def transact(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        return await self._run(work, "BEGIN IMMEDIATE")

    async def read(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        return await self._run(work, "BEGIN")

    async def close(self) -> None:
        def shut(conn: sqlite3.Connection) -> None:
            conn.close()

        if self._conn is not None:
            await self._call(shut)
            self._conn = None
        self._executor.shutdown(wait=True)
