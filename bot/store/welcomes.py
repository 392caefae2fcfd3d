"""One welcome per conversation, however many replicas see the install.

Teams sends both an installationUpdate and a conversationUpdate when the app is added,
and with several replicas they may reach different processes at the same moment. The
claim is one atomic upsert, so exactly one of them wins. Only a hash of the
conversation id is kept, deleted after the retention period like everything else.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from bot.store.database import Database, Tx

WINDOW = timedelta(seconds=60)  # a second install event within this is the same install


def _digest(conversation_id: str) -> str:
    return hashlib.sha256(conversation_id.encode()).hexdigest()


class WelcomeStore:
    def __init__(self, db: Database, window: timedelta = WINDOW) -> None:
        self.db = db
        self.window = window

    async def first(self, conversation_id: str, now: datetime) -> bool:
        """True for the first call about this conversation within the window."""

        async def claim(tx: Tx) -> bool:
            rows = await tx.fetch(
                "INSERT INTO welcomes (conversation, seen_at) VALUES (?, ?) "
                "ON CONFLICT (conversation) DO UPDATE SET seen_at = excluded.seen_at "
                "WHERE welcomes.seen_at <= ? RETURNING conversation",
                (_digest(conversation_id), now, now - self.window),
            )
            return bool(rows)

        return await self.db.transact(claim)

    async def purge_before(self, cutoff: datetime) -> int:
        async def purge(tx: Tx) -> int:
            return await tx.execute("DELETE FROM welcomes WHERE seen_at < ?", (cutoff,))

        return await self.db.transact(purge)
