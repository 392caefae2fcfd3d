"""Every replica's adviser takes in the approved rulings: poll the store, swap the book.

The store is the one source of truth: an approval on one replica reaches the others at
their next poll (`RULINGS_REFRESH_SECONDS`, well within a minute), and the replica that
approved it at once. Embedding a new ruling's question runs on a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot import logs
from bot.core import Adviser
from bot.core.rulings import Ruling, merge_rulings
from bot.store.proposals import REMOVED, ProposalStatus, ProposalStore, london_day

log = logging.getLogger("bot.rulings")
MANY = 100_000  # every ruling: there are tens, not thousands


async def rulings_in_force(proposals: ProposalStore, exported: tuple[Ruling, ...]) -> list[Ruling]:
    """The store's approved rulings, and the exported ones it has not rejected or withdrawn."""
    approved = await proposals.with_status(ProposalStatus.APPROVED, limit=MANY)
    removed = await proposals.with_status(*REMOVED, limit=MANY)
    return merge_rulings(
        exported,
        [p.ruling(london_day(p.decided_at or p.proposed_at)) for p in approved],
        [p.ruling_id for p in removed],
    )


class RulingsRefresher:
    def __init__(self, proposals: ProposalStore, adviser: Adviser, every_seconds: float) -> None:
        self.proposals = proposals
        self.adviser = adviser
        self.every_seconds = every_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Refresh now (an approval or withdrawal on this replica)."""
        self._wake.set()

    async def refresh(self) -> bool:
        """Take in the rulings in force; False when they had not changed."""
        rulings = await rulings_in_force(self.proposals, self.adviser.exported_rulings)
        if tuple(rulings) == self.adviser.rulings:
            return False
        await asyncio.to_thread(self.adviser.set_rulings, rulings)
        log.info("rulings.taken_in", extra=logs.fields(rulings=len(rulings)))
        return True

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:  # the database was busy or gone: the old book stays in force
                log.exception("rulings.refresh_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.every_seconds)
            self._wake.clear()
