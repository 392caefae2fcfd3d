"""One anonymous record per answer the bot gives, for the DCCT's insights.

What the DCCT needs to see what staff are unsure about, and nothing else: the verdict,
the FAQ entry and clauses it relied on, how sure it was, the policy version, the
channel, and the hour it was given. No question text, no user or conversation id, and
the time only to the hour, so a record cannot be matched to a person's message by its
timestamp. Records are deleted after `INSIGHTS_RETENTION_DAYS`.

`AnswerStore` runs on SQLite and PostgreSQL alike (bot/store/README.md); the table is
migration 4.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from bot.store.database import Database, Row, Tx, as_datetime


@dataclass(frozen=True)
class AnswerEvent:
    answered_at: datetime  # to the hour, UTC
    verdict: str
    entry: str | None  # the FAQ entry the answer came from, if any
    clauses: tuple[str, ...]
    band: str  # confidence band: high | middle | low
    policy_version: str
    channel: str  # "msteams", "directline", …

    @property
    def topic(self) -> str:
        """What the question was about: its FAQ entry, else the first clause it cited."""
        return self.entry or (f"clause:{self.clauses[0]}" if self.clauses else "")


def to_the_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class AnswerLog(Protocol):
    async def record(self, event: AnswerEvent) -> None: ...

    async def between(self, since: datetime, until: datetime) -> list[AnswerEvent]:
        """Records with `since <= answered_at < until`, oldest first."""
        ...

    async def purge_before(self, cutoff: datetime) -> int:
        """Delete records older than `cutoff`; return how many."""
        ...


def _event(row: Row) -> AnswerEvent:
    answered = as_datetime(row["answered_at"])
    assert answered is not None
    return AnswerEvent(
        answered_at=answered,
        verdict=row["verdict"],
        entry=row["entry"],
        clauses=tuple(c for c in row["clauses"].split(",") if c),
        band=row["band"],
        policy_version=row["policy_version"],
        channel=row["channel"],
    )


class AnswerStore:
    """The records in the database (SQLite or PostgreSQL; migration 4)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, event: AnswerEvent) -> None:
        async def write(tx: Tx) -> None:
            await tx.execute(
                "INSERT INTO answer_events (answered_at, verdict, entry, clauses, band, "
                "policy_version, channel) VALUES (?,?,?,?,?,?,?)",
                (to_the_hour(event.answered_at), event.verdict, event.entry,
                 ",".join(event.clauses), event.band, event.policy_version, event.channel),
            )  # fmt: skip

        await self.db.transact(write)

    async def between(self, since: datetime, until: datetime) -> list[AnswerEvent]:
        async def read(tx: Tx) -> list[AnswerEvent]:
            rows = await tx.fetch(
                "SELECT answered_at, verdict, entry, clauses, band, policy_version, channel "
                "FROM answer_events WHERE answered_at >= ? AND answered_at < ? "
                "ORDER BY answered_at, id",
                (since, until),
            )
            return [_event(r) for r in rows]

        return await self.db.read(read)

    async def purge_before(self, cutoff: datetime) -> int:
        async def purge(tx: Tx) -> int:
            return await tx.execute("DELETE FROM answer_events WHERE answered_at < ?", (cutoff,))

        return await self.db.transact(purge)


class MemoryAnswerLog:
    """The fake: same behaviour, kept in a list."""

    def __init__(self) -> None:
        self.events: list[AnswerEvent] = []

    async def record(self, event: AnswerEvent) -> None:
        self.events.append(replace(event, answered_at=to_the_hour(event.answered_at)))

    async def between(self, since: datetime, until: datetime) -> list[AnswerEvent]:
        found = [e for e in self.events if since <= e.answered_at < until]
        return sorted(found, key=lambda e: e.answered_at)

    async def purge_before(self, cutoff: datetime) -> int:
        kept = [e for e in self.events if e.answered_at >= cutoff]
        purged = len(self.events) - len(kept)
        self.events = kept
        return purged
