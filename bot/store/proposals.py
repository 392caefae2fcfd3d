"""Proposals to add a DCCT ruling to the adviser, and their four-eyes decision.

A DCCT member turns a consented, answered request into a proposal (the question as they
edited it, anonymised; a verdict; clauses; an optional answer); a second member approves
or rejects it. Approved proposals are the rulings every replica's adviser polls for.
A rejected, withdrawn or expired proposal keeps only who decided what and when: its
text is deleted at once, so it is gone from the store and from the next export.

Written once against `Database`, so it runs on SQLite and PostgreSQL alike (the table
is migration 3; one live proposal per request is a partial unique index).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.rulings import Ruling
from bot.core.types import Route, Verdict
from bot.store.database import Database, Row, Tx, as_datetime, fetch_one

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


COLUMNS = (
    "ticket_id, status, question, verdict, clauses, route, answer, proposed_by, "
    "proposer_aad, proposed_at, policy_version, decided_by, decider_aad, decided_at"
)
LIVE_SQL = "('pending', 'approved')"  # as in the migration's partial unique index


def _values(proposal: Proposal) -> tuple[Any, ...]:
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
        proposal.proposed_at,
        proposal.policy_version,
        proposal.decided_by,
        proposal.decider_aad,
        proposal.decided_at,
    )


def _proposal(row: Row) -> Proposal:
    proposed_at = as_datetime(row["proposed_at"])
    assert proposed_at is not None
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
        proposed_at=proposed_at,
        policy_version=str(row["policy_version"]),
        decided_by=row["decided_by"],
        decider_aad=row["decider_aad"],
        decided_at=as_datetime(row["decided_at"]),
    )


def _marks(values: tuple[Any, ...]) -> str:
    return ",".join("?" * len(values))


class ProposalStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, proposal: Proposal) -> Proposal:
        """Store a new pending proposal; if the request already has a pending or approved
        one (a second form, or two replicas at once), return that one instead."""

        async def write(tx: Tx) -> Proposal:
            values = _values(proposal)
            inserted = await tx.fetch(
                f"INSERT INTO proposals ({COLUMNS}) VALUES ({_marks(values)}) "  # noqa: S608
                "ON CONFLICT DO NOTHING RETURNING id",
                values,
            )
            if inserted:
                return replace(proposal, id=int(inserted[0]["id"]))
            same = await fetch_one(
                tx,
                f"SELECT * FROM proposals WHERE ticket_id = ? AND status IN {LIVE_SQL}",  # noqa: S608
                (proposal.ticket_id,),
            )
            assert same is not None, "a conflict is only possible on the live proposal"
            return _proposal(same)

        return await self.db.transact(write)

    async def get(self, proposal_id: int) -> Proposal | None:
        async def read(tx: Tx) -> Proposal | None:
            row = await fetch_one(tx, "SELECT * FROM proposals WHERE id = ?", (proposal_id,))
            return _proposal(row) if row else None

        return await self.db.read(read)

    async def live_for_ticket(self, ticket_id: int) -> Proposal | None:
        async def read(tx: Tx) -> Proposal | None:
            row = await fetch_one(
                tx,
                f"SELECT * FROM proposals WHERE ticket_id = ? AND status IN {LIVE_SQL}",  # noqa: S608
                (ticket_id,),
            )
            return _proposal(row) if row else None

        return await self.db.read(read)

    async def with_status(self, *statuses: ProposalStatus, limit: int = 500) -> list[Proposal]:
        """Newest first."""

        async def read(tx: Tx) -> list[Proposal]:
            wanted = tuple(s.value for s in statuses)
            rows = await tx.fetch(
                f"SELECT * FROM proposals WHERE status IN ({_marks(wanted)}) "  # noqa: S608
                "ORDER BY id DESC LIMIT ?",
                (*wanted, limit),
            )
            return [_proposal(r) for r in rows]

        return await self.db.read(read)

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
        first). Rejecting, withdrawing or expiring deletes the text."""

        async def write(tx: Tx) -> Proposal | None:
            lock = self.db.dialect.for_update
            row = await fetch_one(
                tx,
                f"SELECT * FROM proposals WHERE id = ?{lock}",  # noqa: S608
                (proposal_id,),
            )
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
            await tx.execute(
                "UPDATE proposals SET status = ?, question = ?, answer = ?, decided_by = ?, "
                "decider_aad = ?, decided_at = ?, policy_version = ? WHERE id = ?",
                (decided.status.value, decided.question, decided.answer, by_name, by_aad, at,
                 decided.policy_version, proposal_id),
            )  # fmt: skip
            return decided

        return await self.db.transact(write)

    async def counts(self) -> dict[ProposalStatus, int]:
        async def read(tx: Tx) -> dict[ProposalStatus, int]:
            rows = await tx.fetch("SELECT status, COUNT(*) AS n FROM proposals GROUP BY status")
            return {ProposalStatus(r["status"]): int(r["n"]) for r in rows}

        return await self.db.read(read)

    async def pending_count(self) -> int:
        """Proposals waiting for a second DCCT member (the insights show the number)."""

        async def read(tx: Tx) -> int:
            rows = await tx.fetch(
                "SELECT COUNT(*) AS n FROM proposals WHERE status = ?",
                (ProposalStatus.PENDING.value,),
            )
            return int(rows[0]["n"])

        return await self.db.read(read)

    async def expire_pending_before(self, cutoff: datetime) -> int:
        """Pending proposals older than the retention period: expired, text deleted."""

        async def write(tx: Tx) -> int:
            return await tx.execute(
                "UPDATE proposals SET status = ?, question = NULL, answer = '' "
                "WHERE status = ? AND proposed_at < ?",
                (ProposalStatus.EXPIRED.value, ProposalStatus.PENDING.value, cutoff),
            )

        return await self.db.transact(write)
