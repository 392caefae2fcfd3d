"""Tickets and their outbox, changed only in whole transactions, on SQLite or PostgreSQL.

A ticket and the outbox rows that announce it are written together, before anything
is sent; workers (worker.py) then deliver the rows. So a crash at any moment leaves
either nothing (the user saw no confirmation) or a ticket whose sends will still happen.

The outbox is shared by every replica's worker. A worker claims due rows with a lease
(`claimed_by`, `lease_until`): on PostgreSQL with SELECT … FOR UPDATE SKIP LOCKED, so
two workers never claim the same row; on SQLite inside BEGIN IMMEDIATE (one writer).
The holder renews its lease while it works; a row whose lease has run out (its worker
died) is due again, and only the holder of a live lease can finish, retry or bury a
row. Nothing ever resets a live lease, so a replica starting during another's sends
leaves them alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.escalation.events import Event, OutboxRow
from bot.escalation.lifecycle import Change
from bot.escalation.tickets import WAITING_STATUSES, Ticket, decode, encode
from bot.store.database import Database, Row, Tx, as_datetime, fetch_one

Transition = Callable[[Ticket], Change | None]  # None: not from the ticket's current state

_CLAIMABLE = (
    "(state = 'pending' AND due_at <= ?) "
    "OR (state = 'sending' AND (lease_until IS NULL OR lease_until <= ?))"
)
_MINE = "claimed_by = ? AND state = 'sending'"


def _ticket(row: Row) -> Ticket:
    return decode(int(row["id"]), row["data"])


def _outbox_row(row: Row) -> OutboxRow:
    due = as_datetime(row["due_at"])
    assert due is not None
    return OutboxRow(
        id=int(row["id"]),
        ticket_id=int(row["ticket_id"]),
        kind=row["kind"],
        key=row["key"],
        payload=json.loads(row["payload"]),
        attempts=int(row["attempts"]),
        due_at=due,
        lease_until=as_datetime(row["lease_until"]),
        claimed_by=row["claimed_by"],
    )


class TicketStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- tickets --------------------------------------------------------------------

    async def create(self, change: Change) -> Ticket:
        """Write a confirmed ticket and its first sends. A repeat of the same offer (a
        double click, or the same click reaching two replicas) returns the ticket made
        the first time and queues nothing."""
        ticket = change.ticket

        async def write(tx: Tx) -> Ticket:
            inserted = await tx.fetch(
                "INSERT INTO tickets (data, status, asker_user_id, closed_at, offer_id) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                (encode(ticket), ticket.status.value, ticket.asker_user_id, ticket.closed_at,
                 ticket.offer_id),
            )  # fmt: skip
            if not inserted:
                same = await fetch_one(
                    tx,
                    "SELECT id, data FROM tickets WHERE asker_user_id = ? AND offer_id = ?",
                    (ticket.asker_user_id, ticket.offer_id),
                )
                assert same is not None, "a conflict is only possible on the offer"
                return _ticket(same)
            stored = replace(ticket, id=int(inserted[0]["id"]))
            await _enqueue(tx, stored.id, change.events, ticket.created_at)
            return stored

        return await self.db.transact(write)

    async def get(self, ticket_id: int) -> Ticket | None:
        async def read(tx: Tx) -> Ticket | None:
            row = await fetch_one(tx, "SELECT id, data FROM tickets WHERE id = ?", (ticket_id,))
            return _ticket(row) if row else None

        return await self.db.read(read)

    async def apply(self, ticket_id: int, transition: Transition, now: datetime) -> Ticket | None:
        """Run `transition` on the ticket as it is now, under a row lock, and write the
        result and its events in one transaction. None: no such ticket, or the transition
        does not apply from its state (nothing is written)."""

        async def write(tx: Tx) -> Ticket | None:
            return await self._apply(tx, ticket_id, transition, now)

        return await self.db.transact(write)

    async def _apply(
        self, tx: Tx, ticket_id: int, transition: Transition, now: datetime
    ) -> Ticket | None:
        lock = self.db.dialect.for_update
        row = await fetch_one(tx, f"SELECT id, data FROM tickets WHERE id = ?{lock}",  # noqa: S608
                              (ticket_id,))  # fmt: skip
        if row is None:
            return None
        change = transition(_ticket(row))
        if change is None:
            return None
        ticket = change.ticket
        assert ticket.id == ticket_id, "a transition never changes the id"
        await tx.execute(
            "UPDATE tickets SET data = ?, status = ?, closed_at = ? WHERE id = ?",
            (encode(ticket), ticket.status.value, ticket.closed_at, ticket_id),
        )
        await _enqueue(tx, ticket_id, change.events, now)
        return ticket

    async def for_asker(self, user_id: str, limit: int = 20) -> list[Ticket]:
        async def read(tx: Tx) -> list[Ticket]:
            rows = await tx.fetch(
                "SELECT id, data FROM tickets WHERE asker_user_id = ? ORDER BY id DESC LIMIT ?",
                (user_id, limit),
            )
            return [_ticket(r) for r in rows]

        return await self.db.read(read)

    async def waiting(self) -> list[Ticket]:
        """Delivered and not at an end: what the sweep looks at."""
        marks = ", ".join("?" * len(WAITING_STATUSES))

        async def read(tx: Tx) -> list[Ticket]:
            rows = await tx.fetch(
                f"SELECT id, data FROM tickets WHERE status IN ({marks}) "  # noqa: S608
                "AND closed_at IS NULL ORDER BY id",
                [s.value for s in WAITING_STATUSES],
            )
            return [_ticket(r) for r in rows]

        return await self.db.read(read)

    async def created_between(self, since: datetime, until: datetime) -> list[Ticket]:
        """Tickets still on record made in [since, until), for the DCCT's insights. The
        time is inside the ticket's JSON, so rows are read whole and filtered here: the
        table holds only what retention has not deleted."""

        async def read(tx: Tx) -> list[Ticket]:
            return [_ticket(r) for r in await tx.fetch("SELECT id, data FROM tickets ORDER BY id")]

        return [t for t in await self.db.read(read) if since <= t.created_at < until]

    async def purge_closed_before(self, cutoff: datetime) -> int:
        """Delete tickets closed before `cutoff`, with their outbox rows: the question,
        the answer, names and conversation references all go. Open tickets stay."""

        async def write(tx: Tx) -> int:
            old = "SELECT id FROM tickets WHERE closed_at IS NOT NULL AND closed_at < ?"
            await tx.execute(f"DELETE FROM outbox WHERE ticket_id IN ({old})", (cutoff,))  # noqa: S608
            return await tx.execute(
                "DELETE FROM tickets WHERE closed_at IS NOT NULL AND closed_at < ?", (cutoff,)
            )

        return await self.db.transact(write)

    # --- the outbox -----------------------------------------------------------------

    async def claim(
        self, worker: str, now: datetime, lease: timedelta, limit: int
    ) -> list[OutboxRow]:
        """Lease up to `limit` due rows to `worker`: pending ones whose time has come, and
        rows whose lease ran out (their worker died mid-send). Counts an attempt each."""
        skip = self.db.dialect.skip_locked

        async def write(tx: Tx) -> list[OutboxRow]:
            rows = await tx.fetch(
                "UPDATE outbox SET state = 'sending', claimed_by = ?, lease_until = ?, "  # noqa: S608
                "attempts = attempts + 1 WHERE id IN (SELECT id FROM outbox "
                f"WHERE {_CLAIMABLE} ORDER BY id LIMIT ?{skip}) "
                "RETURNING id, ticket_id, kind, key, payload, attempts, due_at, lease_until, "
                "claimed_by",
                (worker, now + lease, now, now, limit),
            )
            return sorted((_outbox_row(r) for r in rows), key=lambda r: r.id)

        return await self.db.transact(write)

    async def renew(self, worker: str, until: datetime) -> int:
        """Extend the leases `worker` holds (it is alive and working on them)."""

        async def write(tx: Tx) -> int:
            return await tx.execute(
                f"UPDATE outbox SET lease_until = ? WHERE {_MINE}",  # noqa: S608
                (until, worker),
            )

        return await self.db.transact(write)

    async def release(self, worker: str) -> int:
        """Hand back the rows `worker` claimed but did not start (a clean stop): due at
        once for the other replicas, and their claim not counted as an attempt."""

        async def write(tx: Tx) -> int:
            return await tx.execute(
                "UPDATE outbox SET state = 'pending', lease_until = NULL, "  # noqa: S608
                f"attempts = attempts - 1 WHERE {_MINE}",
                (worker,),
            )

        return await self.db.transact(write)

    async def _settle_row(self, sql: str, params: tuple[object, ...]) -> bool:
        async def write(tx: Tx) -> int:
            return await tx.execute(sql, params)

        return await self.db.transact(write) == 1

    async def mark_done(
        self, row: OutboxRow, worker: str, now: datetime, transition: Transition | None = None
    ) -> bool:
        """The row's send succeeded: apply the ticket change it made and finish the row, in
        one transaction. False: the lease was lost (another worker has the row now); the
        change is still applied, because the send did happen."""

        async def write(tx: Tx) -> bool:
            if transition is not None:
                await self._apply(tx, row.ticket_id, transition, now)
            done = await tx.execute(
                "UPDATE outbox SET state = 'done', done_at = ?, last_error = NULL, "  # noqa: S608
                f"lease_until = NULL WHERE id = ? AND {_MINE}",
                (now, row.id, worker),
            )
            return done == 1

        return await self.db.transact(write)

    async def reschedule(self, row_id: int, worker: str, due_at: datetime, error: str) -> bool:
        return await self._settle_row(
            "UPDATE outbox SET state = 'pending', due_at = ?, last_error = ?, "  # noqa: S608
            f"lease_until = NULL WHERE id = ? AND {_MINE}",
            (due_at, error[:500], row_id, worker),
        )

    async def mark_dead(self, row_id: int, worker: str, error: str) -> bool:
        return await self._settle_row(
            "UPDATE outbox SET state = 'dead', last_error = ?, lease_until = NULL "  # noqa: S608
            f"WHERE id = ? AND {_MINE}",
            (error[:500], row_id, worker),
        )

    async def outbox_counts(self) -> dict[str, int]:
        async def read(tx: Tx) -> dict[str, int]:
            rows = await tx.fetch("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
            return {r["state"]: int(r["n"]) for r in rows}

        return await self.db.read(read)


async def _enqueue(tx: Tx, ticket_id: int, events: tuple[Event, ...], now: datetime) -> None:
    for event in events:
        await tx.execute(
            "INSERT INTO outbox (ticket_id, kind, key, payload, due_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO NOTHING",
            (ticket_id, event.kind.value, event.key(ticket_id), json.dumps(event.payload()), now),
        )
