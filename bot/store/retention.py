"""Deleting personal data on schedule: each store registers a purge, one task runs them.

Every purge deletes what is older than `days` (BOT_RETENTION_DAYS) unless `keep_days`
names a period of its own (the anonymous answer records keep theirs longer).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from bot import logs
from bot.clock import Clock

log = logging.getLogger("bot.retention")

Purge = Callable[[datetime], Awaitable[int]]  # deletes text recorded before the cutoff


async def purge_once(
    purges: Mapping[str, Purge],
    clock: Clock,
    days: int,
    keep_days: Mapping[str, int] | None = None,
) -> dict[str, int]:
    now = clock.now()
    cutoff = now - timedelta(days=days)
    counts: dict[str, int] = {}
    for name, purge in purges.items():
        own = (keep_days or {}).get(name)
        try:
            counts[name] = await purge(cutoff if own is None else now - timedelta(days=own))
        except Exception:
            log.exception("retention.failed", extra=logs.fields(store=name))
    log.info("retention.purged", extra=logs.fields(cutoff=cutoff.isoformat(), **counts))
    return counts


async def purge_periodically(
    purges: dict[str, Purge],
    clock: Clock,
    days: int,
    every_seconds: float,
    keep_days: Mapping[str, int] | None = None,
) -> None:
    while True:
        await purge_once(purges, clock, days, keep_days)
        await asyncio.sleep(every_seconds)
