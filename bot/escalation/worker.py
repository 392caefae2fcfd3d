"""The background worker: deliver due outbox rows, and remind or reroute late tickets.

Every replica runs one. It claims due rows with a lease (store.py), renews the lease
while it works, sends each row once and settles it (done, retry later, dead). A replica
that dies leaves its rows leased; once the lease runs out another replica's worker
claims them. A clean stop finishes the row in hand and hands the rest back at once.
Failures back off exponentially, honouring `Retry-After`; a row that keeps failing is
dead and its ticket fails loudly to the asker. The worker wakes when its own replica
writes rows, and otherwise polls for rows written by the others.

The one window for a duplicate: a replica dies (or loses its database) after Teams
accepted a send and before the send was recorded; the next claim sends it again. The
copy acts on the same ticket, so answering either is safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
from dataclasses import dataclass
from datetime import timedelta

from bot import logs
from bot.clock import Clock
from bot.escalation import lifecycle
from bot.escalation.delivery import CannotDeliverError, Deliveries, RetryLaterError
from bot.escalation.events import OutboxRow
from bot.escalation.lifecycle import LateRules
from bot.escalation.store import TicketStore

log = logging.getLogger("bot.escalation.worker")


@dataclass(frozen=True)
class Backoff:
    max_attempts: int = 12
    base_seconds: float = 2.0
    max_seconds: float = 900.0
    max_retry_after: float = 3600.0

    def delay(self, attempts: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        backoff: float = min(self.base_seconds * 2 ** (attempts - 1), self.max_seconds)
        return backoff * random.uniform(0.75, 1.0)  # noqa: S311 - jitter, not security


def worker_name() -> str:
    """Unique per process: the host (the replica), the pid and a random part."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(3)}"


class OutboxWorker:
    def __init__(
        self,
        store: TicketStore,
        deliveries: Deliveries,
        clock: Clock,
        rules: LateRules,
        *,
        name: str | None = None,
        lease_seconds: float = 60.0,
        backoff: Backoff | None = None,
        poll_seconds: float = 5.0,
        sweep_seconds: float = 300.0,
        batch: int = 20,
    ) -> None:
        self.store = store
        self.deliveries = deliveries
        self.clock = clock
        self.rules = rules
        self.name = name or worker_name()
        self.lease = timedelta(seconds=lease_seconds)
        self.backoff = backoff or Backoff()
        self.poll_seconds = poll_seconds
        self.sweep_seconds = sweep_seconds
        self.batch = batch
        self._wake = asyncio.Event()
        self._stopping = False
        self._last_sweep = float("-inf")
        self._holding = False  # rows are claimed and not yet settled

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        log.info("outbox.worker_started", extra=logs.fields(worker=self.name,
                 lease_seconds=self.lease.total_seconds()))  # fmt: skip
        renewing = asyncio.create_task(self._renew_leases())
        loop = asyncio.get_running_loop()
        try:
            while not self._stopping:
                self._wake.clear()  # before the work: a wake during it is not lost
                try:
                    if loop.time() - self._last_sweep >= self.sweep_seconds:
                        self._last_sweep = loop.time()
                        await self.sweep()
                    worked = await self.drain()
                except Exception:
                    log.exception("outbox.loop_error")  # keep the worker alive; retry next tick
                    worked = 0
                if worked or self._stopping:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def stop(self) -> None:
        """Finish the row in hand; the rest of the claim is handed back by `drain`."""
        self._stopping = True
        self._wake.set()

    async def _renew_leases(self) -> None:
        """While rows are held, keep their leases a whole lease ahead: only a dead (or
        cut-off) replica lets a lease run out."""
        every = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            if not self._holding:
                continue
            try:
                await self.store.renew(self.name, self.clock.now() + self.lease)
            except Exception:
                log.exception("outbox.renew_failed", extra=logs.fields(worker=self.name))

    async def drain(self) -> int:
        """Claim the rows due now and deliver them; return how many were claimed."""
        self._holding = True
        try:
            rows = await self.store.claim(self.name, self.clock.now(), self.lease, self.batch)
            for row in rows:
                if self._stopping:
                    break
                await self._attempt(row)
            if self._stopping and rows:
                released = await self.store.release(self.name)
                if released:
                    log.info("outbox.released", extra=logs.fields(worker=self.name,
                             rows=released))  # fmt: skip
            return len(rows)
        finally:
            self._holding = False

    async def _attempt(self, row: OutboxRow) -> None:
        try:
            change = await self.deliveries.deliver(row)
        except RetryLaterError as exc:
            if row.attempts >= self.backoff.max_attempts:
                await self._dead(row, f"gave up after {row.attempts} attempts: {exc}")
                return
            delay = self.backoff.delay(row.attempts, exc.after)
            due = self.clock.now() + timedelta(seconds=delay)
            await self._settled(row, await self.store.reschedule(row.id, self.name, due, str(exc)))
            log.warning(
                "outbox.retry",
                extra=logs.fields(row=row.id, kind=row.kind, ticket=row.ticket_id,
                                  attempt=row.attempts, delay=round(delay, 2), reason=str(exc)),
            )  # fmt: skip
            return
        except CannotDeliverError as exc:
            await self._dead(row, str(exc))
            return
        except Exception as exc:
            log.exception("outbox.bug", extra=logs.fields(row=row.id, kind=row.kind))
            await self._dead(row, f"internal error: {type(exc).__name__}")
            return
        done = await self.store.mark_done(row, self.name, self.clock.now(), change)
        await self._settled(row, done)
        log.info(
            "outbox.sent",
            extra=logs.fields(row=row.id, kind=row.kind, ticket=row.ticket_id,
                              attempt=row.attempts, worker=self.name),
        )  # fmt: skip

    async def _settled(self, row: OutboxRow, held: bool) -> None:
        if not held:  # our lease ran out mid-send and another worker took the row
            log.warning("outbox.lease_lost", extra=logs.fields(row=row.id, worker=self.name))

    async def _dead(self, row: OutboxRow, reason: str) -> None:
        held = await self.store.mark_dead(row.id, self.name, reason)
        await self._settled(row, held)
        log.error(
            "outbox.dead",
            extra=logs.fields(row=row.id, kind=row.kind, ticket=row.ticket_id, reason=reason),
        )
        if held:  # else the worker that holds it now decides
            await self.deliveries.failed(row, reason)

    async def sweep(self) -> int:
        """Remind experts of late tickets, move late line-manager tickets to the DCCT,
        close mailed ones after their time. Safe on every replica at once: each change
        is decided again on the locked row, and its sends are keyed."""
        now = self.clock.now()
        changed = 0
        for ticket in await self.store.waiting():
            if lifecycle.late(ticket, now, self.rules) is None:
                continue  # not late yet: don't take the row lock for nothing
            updated = await self.store.apply(
                ticket.id, lambda current: lifecycle.late(current, now, self.rules), now
            )
            if updated is not None:
                changed += 1
                log.info(
                    "escalation.late",
                    extra=logs.fields(ticket=ticket.id, status=updated.status.value,
                                      route=updated.route.value),
                )  # fmt: skip
        if changed:
            self.wake()
        return changed
