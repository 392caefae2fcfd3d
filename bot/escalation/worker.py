"""The background worker: deliver due outbox rows, and remind or reroute late tickets.

Rows are claimed (pending → sending) before the send, done after it. At start, rows
left in `sending` by a crash go back to pending. Failures back off exponentially,
honouring `Retry-After`; a row that keeps failing is dead and its ticket fails
loudly to the asker. The worker wakes when new rows are written, and otherwise polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot import logs
from bot.clock import Clock
from bot.escalation.delivery import CannotDeliverError, Deliveries, RetryLaterError
from bot.escalation.tickets import OutboxItem, OutboxRow, Status, TicketStore
from bot.escalation.working_hours import working_hours_between

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


@dataclass(frozen=True)
class Reminders:
    reminder_hours: float
    deadline_hours: float
    can_reroute: bool  # a DCCT route exists to move late line-manager requests to


class OutboxWorker:
    def __init__(
        self,
        store: TicketStore,
        deliveries: Deliveries,
        clock: Clock,
        reminders: Reminders,
        *,
        backoff: Backoff | None = None,
        poll_seconds: float = 5.0,
        sweep_seconds: float = 300.0,
        batch: int = 20,
    ) -> None:
        self.store = store
        self.deliveries = deliveries
        self.clock = clock
        self.reminders = reminders
        self.backoff = backoff or Backoff()
        self.poll_seconds = poll_seconds
        self.sweep_seconds = sweep_seconds
        self.batch = batch
        self._wake = asyncio.Event()
        self._stopping = False
        self._last_sweep = 0.0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        recovered = await self.store.recover_in_flight()
        if recovered:
            log.warning("outbox.recovered", extra=logs.fields(rows=recovered))
        loop = asyncio.get_running_loop()
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
            if worked:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def stop(self) -> None:
        """Finish the row in hand; rows not started stay pending for the next start."""
        self._stopping = True
        self._wake.set()

    async def drain(self) -> int:
        """Deliver every row due now; return how many were attempted."""
        rows = await self.store.due(self.clock.now(), self.batch)
        for row in rows:
            if self._stopping:
                break
            if await self.store.mark_sending(row.id):
                await self._attempt(row)
        return len(rows)

    async def _attempt(self, row: OutboxRow) -> None:
        attempts = row.attempts + 1
        try:
            await self.deliveries.deliver(row)
        except RetryLaterError as exc:
            if attempts >= self.backoff.max_attempts:
                await self._dead(row, f"gave up after {attempts} attempts: {exc}")
                return
            delay = self.backoff.delay(attempts, exc.after)
            due = self.clock.now() + timedelta(seconds=delay)
            await self.store.reschedule(row.id, due, str(exc))
            log.warning(
                "outbox.retry",
                extra=logs.fields(row=row.id, kind=row.kind, ticket=row.ticket_id,
                                  attempt=attempts, delay=round(delay, 2), reason=str(exc)),
            )  # fmt: skip
            return
        except CannotDeliverError as exc:
            await self._dead(row, str(exc))
            return
        except Exception as exc:
            log.exception("outbox.bug", extra=logs.fields(row=row.id, kind=row.kind))
            await self._dead(row, f"internal error: {type(exc).__name__}")
            return
        await self.store.mark_done(row.id, self.clock.now())
        log.info(
            "outbox.sent",
            extra=logs.fields(row=row.id, kind=row.kind, ticket=row.ticket_id, attempt=attempts),
        )

    async def _dead(self, row: OutboxRow, reason: str) -> None:
        await self.store.mark_dead(row.id, reason)
        log.error(
            "outbox.dead",
            extra=logs.fields(row=row.id, kind=row.kind, ticket=row.ticket_id, reason=reason),
        )
        await self.deliveries.failed(row, reason)

    async def sweep(self) -> int:
        """Remind experts of late tickets; move late line-manager tickets to the DCCT."""
        now = self.clock.now()
        changed = 0
        for ticket in await self.store.open_tickets():
            if ticket.status not in (Status.SENT, Status.TAKEN) or ticket.sent_at is None:
                continue
            waited = working_hours_between(ticket.sent_at, now)
            key = f"{ticket.id}:{ticket.follow_ups}:{ticket.route}"
            changes: dict[str, Any]
            if (
                ticket.route == "line_manager"
                and waited >= self.reminders.deadline_hours
                and self.reminders.can_reroute
            ):
                outbox = [
                    OutboxItem("deliver_request", f"deliver:{ticket.id}:deadline"),
                    OutboxItem("notify_asker", f"notify:{key}:deadline", {"event": "rerouted"}),
                ]
                if ticket.expert_activity_id:
                    address = {**ticket.expert_card_address(), "moved": True}
                    outbox.append(OutboxItem("update_expert", f"update:{key}:moved", address))
                changes = {"status": Status.PENDING, "route": "dcct", "rerouted": "deadline",
                           "expert_aad": None, "expert_name": None, "expert_conversation": {},
                           "expert_activity_id": None, "taken_by": None}  # fmt: skip
            elif (
                waited >= self.reminders.reminder_hours
                and ticket.reminded_at is None
                and ticket.expert_conversation  # a mailed request has no card to remind
            ):
                outbox = [
                    OutboxItem("remind_expert", f"remind:{key}"),
                    OutboxItem("notify_asker", f"notify:{key}:reminded", {"event": "reminded"}),
                ]
                changes = {"reminded_at": now}
            else:
                continue
            updated = await self.store.update(
                ticket.id, changes, outbox, now=now, only_if=(Status.SENT, Status.TAKEN)
            )
            if updated is not None:
                changed += 1
                log.info(
                    "escalation.late",
                    extra=logs.fields(ticket=ticket.id, hours=round(waited, 1),
                                      action="rerouted" if changes.get("route") else "reminded"),
                )  # fmt: skip
        if changed:
            self.wake()
        return changed
