"""The database as the stores see it: transactions of parameterised SQL, two dialects.

Every store (tickets and outbox, feedback, welcomes) is written once against `Database`
and runs unchanged on SQLite (the embedded default: local mode, tests, the container
trial) and PostgreSQL (production with several replicas). SQL is written with `?`
placeholders; the few dialect differences the stores need are on `Dialect`.

`transact(work)` runs `work(tx)` in one transaction, committed when it returns and
rolled back if it raises. `work` may be run again when the connection fails under it
(PostgreSQL restarting, a fail-over), so it must only touch the database: no sends, no
other side effects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
Row = dict[str, Any]


class Dialect(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgresql"

    @property
    def skip_locked(self) -> str:
        """Appended to a SELECT whose rows the transaction will claim. SQLite has one
        writer at a time (BEGIN IMMEDIATE), so its claims never meet."""
        return " FOR UPDATE SKIP LOCKED" if self is Dialect.POSTGRES else ""

    @property
    def for_update(self) -> str:
        """Appended to a SELECT of a row the transaction will change."""
        return " FOR UPDATE" if self is Dialect.POSTGRES else ""


class Tx(Protocol):
    """One open transaction."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; return the number of rows it changed."""
        ...

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a query (or a statement with RETURNING); return its rows as dicts."""
        ...


class Database(Protocol):
    dialect: Dialect

    async def open(self) -> None:
        """Connect, and bring the schema up to date (bot/store/migrations.py)."""
        ...

    async def transact(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `work` in a transaction that may write."""
        ...

    async def read(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `work`, which only reads. On PostgreSQL each statement stands alone
        (autocommit), so a read that needs one snapshot of several tables uses
        `transact`."""
        ...

    async def close(self) -> None: ...


async def fetch_one(tx: Tx, sql: str, params: Sequence[Any] = ()) -> Row | None:
    rows = await tx.fetch(sql, params)
    return rows[0] if rows else None


def as_datetime(value: Any) -> datetime | None:
    """A time read back from either database: PostgreSQL gives datetimes, SQLite text."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def sqlite_time(value: datetime) -> str:
    """How SQLite keeps a time: UTC ISO text of one fixed width, so text order is time
    order (a time without microseconds would otherwise be shorter)."""
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
