"""Tickets and their outbox, in SQLite, changed only in whole transactions.

A ticket and the outbox rows that announce it are written together, before anything
is sent; the worker (outbox.py) then delivers the rows. So a crash at any moment leaves
either nothing (the user saw no confirmation) or a ticket whose sends will still happen.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from bot.store.database import Database


class Status(StrEnum):
    PENDING = "pending"  # written, not yet delivered to the expert
    SENT = "sent"  # the expert has the request
    TAKEN = "taken"  # a DCCT member said they'll answer
    ANSWERED = "answered"  # answer given and relayed; the asker may follow up
    CLOSED = "closed"  # closed by the expert without an answer
    CANCELLED = "cancelled"  # withdrawn by the asker
    FAILED = "failed"  # could not be delivered; the asker was told


OPEN_STATUSES = (Status.PENDING, Status.SENT, Status.TAKEN)


@dataclass
class Ticket:
    id: int
    created_at: datetime
    status: Status
    route: str  # "line_manager" or "dcct"
    asker_user_id: str
    asker_aad: str | None
    asker_name: str
    asker_conversation: dict[str, Any]
    tenant_id: str | None
    question: str | None  # blanked after the retention period
    verdict: str
    clauses: str  # comma-separated clause ids
    entry: str | None
    policy_version: str
    expert_aad: str | None = None
    expert_name: str | None = None
    expert_conversation: dict[str, Any] = field(default_factory=dict)
    expert_activity_id: str | None = None
    taken_by: str | None = None
    answer: str | None = None
    outcome: str | None = None  # approve | not_ok | changes | reply
    answered_by: str | None = None
    answered_at: datetime | None = None
    sent_at: datetime | None = None
    reminded_at: datetime | None = None
    rerouted: str | None = None  # why it went to the fallback
    closed_at: datetime | None = None
    follow_ups: int = 0
    offer_id: str = ""  # the preview card it came from: a double click makes one ticket

    def expert_card_address(self) -> dict[str, str]:
        """Where the expert's card is, captured when queued: a reroute changes the ticket."""
        service_url, conversation_id = address(self.expert_conversation)
        return {
            "service_url": service_url,
            "conversation_id": conversation_id,
            "activity_id": self.expert_activity_id or "",
        }


def address(reference: dict[str, Any]) -> tuple[str, str]:
    """(service URL, conversation id) of a stored conversation reference."""
    conversation = reference.get("conversation") or {}
    return str(reference.get("serviceUrl", "")), str(conversation.get("id", ""))


@dataclass(frozen=True)
class OutboxItem:
    kind: str  # deliver_request | notify_asker | update_expert | remind_expert | mail_dcct
    key: str  # idempotency key: the same logical send is only ever queued once
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboxRow:
    id: int
    ticket_id: int
    kind: str
    key: str
    payload: dict[str, Any]
    state: str
    attempts: int
    due_at: datetime


class TicketStore(Protocol):
    async def create(self, ticket: Ticket, outbox: list[OutboxItem]) -> Ticket: ...
    async def get(self, ticket_id: int) -> Ticket | None: ...
    async def update(
        self,
        ticket_id: int,
        changes: dict[str, Any],
        outbox: list[OutboxItem] | None = None,
        *,
        now: datetime,
        only_if: tuple[Status, ...] | None = None,
    ) -> Ticket | None: ...
    async def for_asker(self, user_id: str) -> list[Ticket]: ...
    async def open_tickets(self) -> list[Ticket]: ...
    async def due(self, now: datetime, limit: int) -> list[OutboxRow]: ...
    async def mark_sending(self, row_id: int) -> bool: ...
    async def mark_done(self, row_id: int, now: datetime) -> None: ...
    async def reschedule(self, row_id: int, due_at: datetime, error: str) -> None: ...
    async def mark_dead(self, row_id: int, error: str) -> None: ...
    async def recover_in_flight(self) -> int: ...
    async def purge_closed_before(self, cutoff: datetime) -> int: ...


SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    data TEXT NOT NULL,
    status TEXT NOT NULL,
    asker_user_id TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX IF NOT EXISTS tickets_asker ON tickets(asker_user_id);
CREATE INDEX IF NOT EXISTS tickets_status ON tickets(status);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    kind TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at TEXT NOT NULL,
    last_error TEXT,
    done_at TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, due_at);
"""

_DATES = {"created_at", "answered_at", "sent_at", "reminded_at", "closed_at"}


def _encode(ticket: Ticket) -> str:
    raw = asdict(ticket)
    raw.pop("id")
    for name in _DATES:
        raw[name] = raw[name].isoformat() if raw[name] else None
    raw["status"] = ticket.status.value
    return json.dumps(raw, ensure_ascii=False)


def _decode(ticket_id: int, data: str) -> Ticket:
    raw = json.loads(data)
    known = {f.name for f in fields(Ticket)}
    raw = {k: v for k, v in raw.items() if k in known}
    for name in _DATES:
        raw[name] = datetime.fromisoformat(raw[name]) if raw.get(name) else None
    raw["status"] = Status(raw["status"])
    return Ticket(id=ticket_id, **raw)


def _enqueue(conn: sqlite3.Connection, ticket_id: int, items: list[OutboxItem], now: str) -> None:
    for item in items:
        conn.execute(
            "INSERT OR IGNORE INTO outbox (ticket_id, kind, key, payload, due_at) "
            "VALUES (?,?,?,?,?)",
            (ticket_id, item.kind, item.key, json.dumps(item.payload), now),
        )


class SqliteTicketStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def open(self) -> None:
        await self.db.run(lambda conn: conn.executescript(SCHEMA))

    async def create(self, ticket: Ticket, outbox: list[OutboxItem]) -> Ticket:
        """Write the ticket and its first sends; a repeat of the same offer returns the
        ticket made the first time and queues nothing."""

        def write(conn: sqlite3.Connection) -> int:
            if ticket.offer_id:
                same = conn.execute(
                    "SELECT id FROM tickets WHERE asker_user_id=? "
                    "AND json_extract(data, '$.offer_id')=?",
                    (ticket.asker_user_id, ticket.offer_id),
                ).fetchone()
                if same:
                    return int(same["id"])
            cursor = conn.execute(
                "INSERT INTO tickets (data, status, asker_user_id) VALUES (?,?,?)",
                (_encode(ticket), ticket.status.value, ticket.asker_user_id),
            )
            ticket_id = int(cursor.lastrowid or 0)
            items = [
                OutboxItem(i.kind, i.key.replace("{ticket}", str(ticket_id)), i.payload)
                for i in outbox
            ]
            _enqueue(conn, ticket_id, items, ticket.created_at.isoformat())
            return ticket_id

        ticket_id = await self.db.transaction(write)
        stored = await self.get(ticket_id)
        assert stored is not None
        return stored

    async def get(self, ticket_id: int) -> Ticket | None:
        def read(conn: sqlite3.Connection) -> Ticket | None:
            row = conn.execute("SELECT id, data FROM tickets WHERE id=?", (ticket_id,)).fetchone()
            return _decode(row["id"], row["data"]) if row else None

        return await self.db.run(read)

    async def update(
        self,
        ticket_id: int,
        changes: dict[str, Any],
        outbox: list[OutboxItem] | None = None,
        *,
        now: datetime,
        only_if: tuple[Status, ...] | None = None,
    ) -> Ticket | None:
        """Apply `changes` and queue `outbox` atomically; None if the ticket is missing or
        its status is not in `only_if` (so two people answering at once can't both win)."""

        def write(conn: sqlite3.Connection) -> Ticket | None:
            row = conn.execute("SELECT id, data FROM tickets WHERE id=?", (ticket_id,)).fetchone()
            if row is None:
                return None
            ticket = _decode(row["id"], row["data"])
            if only_if is not None and ticket.status not in only_if:
                return None
            for name, value in changes.items():
                setattr(ticket, name, value)
            conn.execute(
                "UPDATE tickets SET data=?, status=?, closed_at=? WHERE id=?",
                (
                    _encode(ticket),
                    ticket.status.value,
                    ticket.closed_at.isoformat() if ticket.closed_at else None,
                    ticket_id,
                ),
            )
            _enqueue(conn, ticket_id, outbox or [], now.isoformat())
            return ticket

        return await self.db.transaction(write)

    async def for_asker(self, user_id: str) -> list[Ticket]:
        def read(conn: sqlite3.Connection) -> list[Ticket]:
            rows = conn.execute(
                "SELECT id, data FROM tickets WHERE asker_user_id=? ORDER BY id DESC LIMIT 20",
                (user_id,),
            ).fetchall()
            return [_decode(r["id"], r["data"]) for r in rows]

        return await self.db.run(read)

    async def open_tickets(self) -> list[Ticket]:
        def read(conn: sqlite3.Connection) -> list[Ticket]:
            marks = ",".join("?" * len(OPEN_STATUSES))
            rows = conn.execute(
                f"SELECT id, data FROM tickets WHERE status IN ({marks}) ORDER BY id",  # noqa: S608
                [s.value for s in OPEN_STATUSES],
            ).fetchall()
            return [_decode(r["id"], r["data"]) for r in rows]

        return await self.db.run(read)

    async def due(self, now: datetime, limit: int) -> list[OutboxRow]:
        def read(conn: sqlite3.Connection) -> list[OutboxRow]:
            rows = conn.execute(
                "SELECT * FROM outbox WHERE state='pending' AND due_at<=? ORDER BY id LIMIT ?",
                (now.isoformat(), limit),
            ).fetchall()
            return [
                OutboxRow(
                    id=r["id"],
                    ticket_id=r["ticket_id"],
                    kind=r["kind"],
                    key=r["key"],
                    payload=json.loads(r["payload"]),
                    state=r["state"],
                    attempts=r["attempts"],
                    due_at=datetime.fromisoformat(r["due_at"]),
                )
                for r in rows
            ]

        return await self.db.run(read)

    async def mark_sending(self, row_id: int) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE outbox SET state='sending', attempts=attempts+1 "
                "WHERE id=? AND state='pending'",
                (row_id,),
            )
            return cursor.rowcount == 1

        return await self.db.run(write)

    async def mark_done(self, row_id: int, now: datetime) -> None:
        await self.db.run(
            lambda conn: conn.execute(
                "UPDATE outbox SET state='done', done_at=?, last_error=NULL WHERE id=?",
                (now.isoformat(), row_id),
            )
        )

    async def reschedule(self, row_id: int, due_at: datetime, error: str) -> None:
        await self.db.run(
            lambda conn: conn.execute(
                "UPDATE outbox SET state='pending', due_at=?, last_error=? WHERE id=?",
                (due_at.isoformat(), error[:500], row_id),
            )
        )

    async def mark_dead(self, row_id: int, error: str) -> None:
        await self.db.run(
            lambda conn: conn.execute(
                "UPDATE outbox SET state='dead', last_error=? WHERE id=?", (error[:500], row_id)
            )
        )

    async def recover_in_flight(self) -> int:
        """After a crash: rows caught mid-send go back to the queue."""

        def write(conn: sqlite3.Connection) -> int:
            return conn.execute("UPDATE outbox SET state='pending' WHERE state='sending'").rowcount

        return await self.db.run(write)

    async def outbox_counts(self) -> dict[str, int]:
        def read(conn: sqlite3.Connection) -> dict[str, int]:
            rows = conn.execute("SELECT state, COUNT(*) n FROM outbox GROUP BY state").fetchall()
            return {r["state"]: r["n"] for r in rows}

        return await self.db.run(read)

    async def purge_closed_before(self, cutoff: datetime) -> int:
        """Delete tickets closed before `cutoff`, with their outbox rows: the question,
        the answer, names and conversation references all go. Open tickets stay."""

        def write(conn: sqlite3.Connection) -> int:
            old = "SELECT id FROM tickets WHERE closed_at IS NOT NULL AND closed_at < ?"
            conn.execute(f"DELETE FROM outbox WHERE ticket_id IN ({old})", (cutoff.isoformat(),))  # noqa: S608
            return conn.execute(
                "DELETE FROM tickets WHERE closed_at IS NOT NULL AND closed_at < ?",
                (cutoff.isoformat(),),
            ).rowcount

        return await self.db.transaction(write)
