"""Feedback on answers: which FAQ entry, which policy version, helpful or not.

Stores the minimum: no user id, and the question text only when the user ticked the
box to include it. Comments and opted-in questions are deleted after the retention
period; the bare counts (entry, verdict, helpful) stay for improving the FAQ.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.store.database import Database


@dataclass(frozen=True)
class Feedback:
    card_id: str  # the answer card's activity id: a second click updates, not adds
    entry: str | None
    verdict: str
    policy_version: str
    helpful: bool
    channel: str
    created_at: datetime
    comment: str | None = None
    question: str | None = None  # only with the user's consent


class FeedbackStore(Protocol):
    async def record(self, feedback: Feedback) -> None: ...

    async def all(self) -> list[Feedback]: ...

    async def purge_text_before(self, cutoff: datetime) -> int:
        """Blank comments and questions recorded before `cutoff`; return how many rows."""
        ...


SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    card_id TEXT PRIMARY KEY,
    entry TEXT,
    verdict TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    helpful INTEGER NOT NULL,
    channel TEXT NOT NULL,
    created_at TEXT NOT NULL,
    comment TEXT,
    question TEXT
);
CREATE INDEX IF NOT EXISTS feedback_created ON feedback(created_at);
"""


class SqliteFeedbackStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def open(self) -> None:
        await self.db.run(lambda conn: conn.executescript(SCHEMA))

    async def record(self, feedback: Feedback) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO feedback VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(card_id) DO UPDATE "
                "SET helpful=excluded.helpful, comment=excluded.comment, "
                "question=excluded.question, created_at=excluded.created_at",
                (
                    feedback.card_id,
                    feedback.entry,
                    feedback.verdict,
                    feedback.policy_version,
                    int(feedback.helpful),
                    feedback.channel,
                    feedback.created_at.isoformat(),
                    feedback.comment,
                    feedback.question,
                ),
            )

        await self.db.run(write)

    async def all(self) -> list[Feedback]:
        def read(conn: sqlite3.Connection) -> list[Feedback]:
            rows = conn.execute("SELECT * FROM feedback ORDER BY created_at").fetchall()
            return [
                Feedback(
                    card_id=r["card_id"],
                    entry=r["entry"],
                    verdict=r["verdict"],
                    policy_version=r["policy_version"],
                    helpful=bool(r["helpful"]),
                    channel=r["channel"],
                    created_at=datetime.fromisoformat(r["created_at"]),
                    comment=r["comment"],
                    question=r["question"],
                )
                for r in rows
            ]

        return await self.db.run(read)

    async def purge_text_before(self, cutoff: datetime) -> int:
        def purge(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "UPDATE feedback SET comment=NULL, question=NULL WHERE created_at < ? "
                "AND (comment IS NOT NULL OR question IS NOT NULL)",
                (cutoff.isoformat(),),
            )
            return cursor.rowcount

        return await self.db.run(purge)


class MemoryFeedbackStore:
    """The fake: same behaviour, kept in a dict."""

    def __init__(self) -> None:
        self.rows: dict[str, Feedback] = {}

    async def record(self, feedback: Feedback) -> None:
        self.rows[feedback.card_id] = feedback

    async def all(self) -> list[Feedback]:
        return sorted(self.rows.values(), key=lambda f: f.created_at)

    async def purge_text_before(self, cutoff: datetime) -> int:
        count = 0
        for key, row in list(self.rows.items()):
            if row.created_at < cutoff and (row.comment or row.question):
                self.rows[key] = replace(row, comment=None, question=None)
                count += 1
        return count


def retention_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
