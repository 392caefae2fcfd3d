"""Feedback on answers: which FAQ entry, which policy version, helpful or not.

Stores the minimum: no user id, and the question text only when the user ticked the
box to include it. Comments and opted-in questions are deleted after the retention
period; the bare counts (entry, verdict, helpful) stay for improving the FAQ.

A second click on the same answer card updates its row: the vote, comment, question
and time are the latest click's (so retention counts from it, and a comment left out
the second time is gone); what the card was about (entry, verdict, policy version,
channel) stays as first recorded, because the card did not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.store.database import Database, Row, Tx, as_datetime


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


def _feedback(row: Row) -> Feedback:
    created = as_datetime(row["created_at"])
    assert created is not None
    return Feedback(
        card_id=row["card_id"],
        entry=row["entry"],
        verdict=row["verdict"],
        policy_version=row["policy_version"],
        helpful=bool(row["helpful"]),
        channel=row["channel"],
        created_at=created,
        comment=row["comment"],
        question=row["question"],
    )


class FeedbackStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, feedback: Feedback) -> None:
        async def write(tx: Tx) -> None:
            await tx.execute(
                "INSERT INTO feedback (card_id, entry, verdict, policy_version, helpful, "
                "channel, created_at, comment, question) VALUES (?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (card_id) DO UPDATE SET helpful=excluded.helpful, "
                "comment=excluded.comment, question=excluded.question, "
                "created_at=excluded.created_at",
                (feedback.card_id, feedback.entry, feedback.verdict, feedback.policy_version,
                 feedback.helpful, feedback.channel, feedback.created_at, feedback.comment,
                 feedback.question),
            )  # fmt: skip

        await self.db.transact(write)

    async def all(self) -> list[Feedback]:
        async def read(tx: Tx) -> list[Feedback]:
            rows = await tx.fetch("SELECT * FROM feedback ORDER BY created_at, card_id")
            return [_feedback(r) for r in rows]

        return await self.db.read(read)

    async def purge_text_before(self, cutoff: datetime) -> int:
        """Blank comments and questions recorded before `cutoff`; return how many rows."""

        async def purge(tx: Tx) -> int:
            return await tx.execute(
                "UPDATE feedback SET comment=NULL, question=NULL WHERE created_at < ? "
                "AND (comment IS NOT NULL OR question IS NOT NULL)",
                (cutoff,),
            )

        return await self.db.transact(purge)
