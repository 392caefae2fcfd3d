"""Wire the rulings desk into the app: proposals store, desk, refresher, retention."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiohttp import web

from bot import logs
from bot.clock import Clock
from bot.core import Adviser
from bot.escalation.service import MembershipCheck
from bot.escalation.setup import EscalationParts
from bot.rulings.desk import LocalStandInDcct, RulingsDesk
from bot.rulings.refresh import RulingsRefresher
from bot.settings import Settings
from bot.store.database import Database
from bot.store.proposals import ProposalStore
from bot.store.retention import Purge

log = logging.getLogger("bot.rulings")


@dataclass
class RulingsParts:
    desk: RulingsDesk
    refresher: RulingsRefresher
    store: ProposalStore
    # Takes the rulings in once, then polls; append after the storage context (the
    # database outlives it).
    lifecycle: Callable[[web.Application], AsyncIterator[None]]


def setup_rulings(
    settings: Settings,
    adviser: Adviser,
    *,
    database: Database,
    escalation: EscalationParts,
    clock: Clock,
    purges: dict[str, Purge],
) -> RulingsParts:
    store = ProposalStore(database)
    refresher = RulingsRefresher(store, adviser, settings.escalation.rulings_refresh_seconds)
    dcct: MembershipCheck = escalation.dcct
    if not settings.escalation.dcct_team_id and settings.local_mode:
        dcct = LocalStandInDcct()
    desk = RulingsDesk(
        store,
        escalation.store,
        escalation.signer,
        dcct,
        clock,
        adviser.knowledge,
        refresher.refresh,
        max_chars=settings.bot.max_message_chars,
    )
    purges["proposals"] = store.expire_pending_before

    async def running(app: web.Application) -> AsyncIterator[None]:
        await refresher.refresh()  # the storage context has opened and migrated the database
        local = isinstance(dcct, LocalStandInDcct)
        log.info(
            "rulings.ready",
            extra=logs.fields(
                rulings=len(adviser.rulings), dcct="local stand-in" if local else "team"
            ),
        )
        task = asyncio.create_task(refresher.run())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return RulingsParts(desk, refresher, store, running)
