"""Proposals to add a DCCT ruling to the adviser, and their four-eyes decision.

A DCCT member turns a consented, answered request into a proposal (the question as they
edited it, anonymised; a verdict; clauses; an optional answer); a second member approves
or rejects it. Approved proposals are the rulings every replica's adviser polls for.
A rejected, withdrawn or expired proposal keeps only who decided what and when: its
text is deleted at once, so it is gone from the store and from the next export.

`ProposalStore` is the interface (small, plain SQL, so a PostgreSQL one can follow);
`SqliteProposalStore` is the implementation on the bot's SQLite file.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.core.rulings import Ruling
from bot.core.types import Route, Verdict
from bot.store.database import Database

LONDON = ZoneInfo("Europe/London")  # a ruling is dated as the Parliament's calendar says


def london_day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


class ProposalStatus(StrEnum):
    PENDING = "pending"  # waiting for a second DCCT member
    APPROVED = "approved"  # in force: a ruling
    REJECTED = "rejected"  # by the second member; text deleted
    WITHDRAWN = "withdrawn"  # by a DCCT member, before or after approval; text deleted
    EXPIRED = "expired"  # pending past the retention period; text deleted


LIVE = (ProposalStatus.PENDING, ProposalStatus.APPROVED)
REMOVED = (ProposalStatus.REJECTED, ProposalStatus.WITHDRAWN, ProposalStatus.EXPIRED)


@dataclass(frozen=True)
class Proposal:
    id: int
    ticket_id: int
    status: ProposalStatus
    question: str | None  # None once rejected, withdrawn or expired
    verdict: Verdict
    clauses: tuple[str, ...]
    route: Route
    answer: str
    proposed_by: str  # names and object ids: who proposed and who decided, for the record
    proposer_aad: str
    proposed_at: datetime
    policy_version: str  # under which it was proposed; on approval, under which approved
    decided_by: str | None = None
    decider_aad: str | None = None
    decided_at: datetime | None = None

    @property
    def ruling_id(self) -> str:
        return f"ruling-{self.id:04d}"

    def ruling(self, ruled_on: date) -> Ruling:
        """An approved proposal as the adviser applies it and `knowledge export` writes it."""
        return Ruling(
            id=self.ruling_id,
            question=self.question or "",
            verdict=self.verdict,
            clauses=self.clauses,
            route=self.route,
            answer=self.answer,
            ruled_on=ruled_on,
            policy_version=self.policy_version,
        )


class ProposalStore(Protocol):
    async def open(self) -> None: ...

    async def create(self, proposal: Proposal) -> Proposal:
        """Store a new pending proposal; if the ticket already has a pending or approved
        one, return that instead (one live proposal per request)."""
        ...

    async def get(self, proposal_id: int) -> Proposal | None: ...

    async def live_for_ticket(self, ticket_id: int) -> Proposal | None: ...

    async def with_status(self, *statuses: ProposalStatus, limit: int = 500) -> list[Proposal]:
        """Newest first."""
        ...

    async def decide(
        self,
        proposal_id: int,
        status: ProposalStatus,
        *,
        by_name: str,
        by_aad: str,
        at: datetime,
        only_if: tuple[ProposalStatus, ...],
        policy_version: str | None = None,
    ) -> Proposal | None:
        """Move it to `status` if it is in `only_if` (None otherwise: someone else was
        first). Rejecting or withdrawing deletes the text."""
        ...

    async def counts(self) -> dict[ProposalStatus, int]: ...

    async def expire_pending_before(self, cutoff: datetime) -> int:
        """Pending proposals older than the retention period: expired, text deleted."""
        ...


SCHEMA = """
CREATE TABLE IF NOT EXISTS proposals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    question TEXT,
    verdict TEXT NOT NULL,
    clauses TEXT NOT NULL,
    route TEXT NOT NULL,
    answer TEXT NOT NULL,
    proposed_by TEXT NOT NULL,
    proposer_aad TEXT NOT NULL,
    proposed_at TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    decided_by TEXT,
    decider_aad TEXT,
    decided_at TEXT
);
CREATE INDEX IF NOT EXISTS proposals_status ON proposals(status);
CREATE INDEX IF NOT EXISTS proposals_ticket ON proposals(ticket_id);
"""
COLUMNS = (
    "ticket_id, status, question, verdict, clauses, route, answer, proposed_by, "
    "proposer_aad, proposed_at, policy_version, decided_by, decider_aad, decided_at"
)


def _row(proposal: Proposal) -> tuple[Any, ...]:
    return (
        proposal.ticket_id,
        proposal.status.value,
        proposal.question,
        proposal.verdict.value,
        ",".join(proposal.clauses),
        proposal.route.value,
        proposal.answer,
        proposal.proposed_by,
        proposal.proposer_aad,
        proposal.proposed_at.isoformat(),
        proposal.policy_version,
        proposal.decided_by,
        proposal.decider_aad,
        proposal.decided_at.isoformat() if proposal.decided_at else None,
    )


def _proposal(row: sqlite3.Row) -> Proposal:
    return Proposal(
        id=int(row["id"]),
        ticket_id=int(row["ticket_id"]),
        status=ProposalStatus(row["status"]),
        question=row["question"],
        verdict=Verdict(row["verdict"]),
        clauses=tuple(c for c in str(row["clauses"]).split(",") if c),
        route=Route(row["route"]),
        answer=str(row["answer"]),
        proposed_by=str(row["proposed_by"]),
        proposer_aad=str(row["proposer_aad"]),
        proposed_at=datetime.fromisoformat(row["proposed_at"]),
        policy_version=str(row["policy_version"]),
        decided_by=row["decided_by"],
        decider_aad=row["decider_aad"],
        decided_at=datetime.fromisoformat(row["decided_at"]) if row["decided_at"] else None,
    )


def _marks(values: tuple[Any, ...]) -> str:
    return ",".join("?" * len(values))


class SqliteProposalStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def open(self) -> None:
        await self.db.run(lambda conn: conn.executescript(SCHEMA))

    async def create(self, proposal: Proposal) -> Proposal:
        def write(conn: sqlite3.Connection) -> int:
            live = tuple(s.value for s in LIVE)
            same = conn.execute(
                f"SELECT id FROM proposals WHERE ticket_id=? AND status IN ({_marks(live)})",  # noqa: S608
                (proposal.ticket_id, *live),
            ).fetchone()
            if same:
                return int(same["id"])
            cursor = conn.execute(
                f"INSERT INTO proposals ({COLUMNS}) VALUES ({_marks(_row(proposal))})",  # noqa: S608
                _row(proposal),
            )
            return int(cursor.lastrowid or 0)

        stored = await self.get(await self.db.transaction(write))
        assert stored is not None
        return stored

    async def get(self, proposal_id: int) -> Proposal | None:
        def read(conn: sqlite3.Connection) -> Proposal | None:
            row = conn.execute("SELECT * FROM proposals WHERE id=?", (proposal_id,)).fetchone()
            return _proposal(row) if row else None

        return await self.db.run(read)

    async def live_for_ticket(self, ticket_id: int) -> Proposal | None:
        def read(conn: sqlite3.Connection) -> Proposal | None:
            live = tuple(s.value for s in LIVE)
            row = conn.execute(
                f"SELECT * FROM proposals WHERE ticket_id=? AND status IN ({_marks(live)}) "  # noqa: S608
                "ORDER BY id DESC",
                (ticket_id, *live),
            ).fetchone()
            return _proposal(row) if row else None

        return await self.db.run(read)

    async def with_status(self, *statuses: ProposalStatus, limit: int = 500) -> list[Proposal]:
        def read(conn: sqlite3.Connection) -> list[Proposal]:
            wanted = tuple(s.value for s in statuses)
            rows = conn.execute(
                f"SELECT * FROM proposals WHERE status IN ({_marks(wanted)}) "  # noqa: S608
                "ORDER BY id DESC LIMIT ?",
                (*wanted, limit),
            ).fetchall()
            return [_proposal(r) for r in rows]

        return await self.db.run(read)

    async def decide(
        self,
        proposal_id: int,
        status: ProposalStatus,
        *,
        by_name: str,
        by_aad: str,
        at: datetime,
        only_if: tuple[ProposalStatus, ...],
        policy_version: str | None = None,
    ) -> Proposal | None:
        def write(conn: sqlite3.Connection) -> Proposal | None:
            row = conn.execute("SELECT * FROM proposals WHERE id=?", (proposal_id,)).fetchone()
            if row is None:
                return None
            current = _proposal(row)
            if current.status not in only_if:
                return None
            decided = replace(
                current,
                status=status,
                decided_by=by_name,
                decider_aad=by_aad,
                decided_at=at,
                policy_version=policy_version or current.policy_version,
            )
            if status in REMOVED:  # gone everywhere: keep only who decided what, and when
                decided = replace(decided, question=None, answer="")
            conn.execute(
                "UPDATE proposals SET status=?, question=?, answer=?, decided_by=?, "
                "decider_aad=?, decided_at=?, policy_version=? WHERE id=?",
                (
                    decided.status.value,
                    decided.question,
                    decided.answer,
                    decided.decided_by,
                    decided.decider_aad,
                    at.isoformat(),
                    decided.policy_version,
                    proposal_id,
                ),
            )
            return decided

        return await self.db.transaction(write)

    async def counts(self) -> dict[ProposalStatus, int]:
        def read(conn: sqlite3.Connection) -> dict[ProposalStatus, int]:
            rows = conn.execute("SELECT status, COUNT(*) n FROM proposals GROUP BY status")
            return {ProposalStatus(r["status"]): int(r["n"]) for r in rows.fetchall()}

        return await self.db.run(read)

    async def expire_pending_before(self, cutoff: datetime) -> int:
        def write(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "UPDATE proposals SET status=?, question=NULL, answer='' "
                "WHERE status=? AND proposed_at < ?",
                (ProposalStatus.EXPIRED.value, ProposalStatus.PENDING.value, cutoff.isoformat()),
            ).rowcount

        return await self.db.run(write)
