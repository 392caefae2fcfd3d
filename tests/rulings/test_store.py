"""The proposals store on a real SQLite file: one live proposal per request, decisions
only from the state they expect, text gone once a proposal is rejected, withdrawn or
expired."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.types import Route, Verdict
from bot.store.database import Database
from bot.store.proposals import Proposal, ProposalStatus, SqliteProposalStore

WHEN = datetime(2026, 3, 3, 9, tzinfo=UTC)


def proposal(ticket_id: int, when: datetime = WHEN) -> Proposal:
    return Proposal(0, ticket_id, ProposalStatus.PENDING, "Can I post it?", Verdict.ASK,
                    ("D2", "F2"), Route.DCCT, "Ask first.", "Dana", "aad-d", when,
                    "sha256:151d76d8fc70")  # fmt: skip


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteProposalStore]:
    db = Database(tmp_path / "bot.sqlite3")
    store = SqliteProposalStore(db)
    await store.open()
    yield store
    await db.close()


async def test_one_live_proposal_per_request_and_decisions_from_the_expected_state(
    store: SqliteProposalStore,
) -> None:
    first = await store.create(proposal(1))
    assert first.id == 1
    assert await store.create(proposal(1)) == first, "a second one for the request: the first"
    assert first.ruling(date(2026, 3, 3)).id == "ruling-0001"
    approve: dict[str, Any] = {"by_name": "Eilidh", "by_aad": "aad-e", "at": WHEN}
    approved = await store.decide(
        1,
        ProposalStatus.APPROVED,
        **approve,
        only_if=(ProposalStatus.PENDING,),
        policy_version="sha256:aaaaaaaaaaaa",
    )
    assert approved is not None
    assert (approved.status, approved.decided_by, approved.policy_version) == (
        ProposalStatus.APPROVED, "Eilidh", "sha256:aaaaaaaaaaaa")  # fmt: skip
    assert await store.decide(1, ProposalStatus.REJECTED, **approve,
                              only_if=(ProposalStatus.PENDING,)) is None  # fmt: skip
    assert await store.get(1) == approved
    assert await store.live_for_ticket(1) == approved
    withdrawn = await store.decide(1, ProposalStatus.WITHDRAWN, **approve,
                                   only_if=(ProposalStatus.APPROVED,))  # fmt: skip
    assert withdrawn is not None
    assert (withdrawn.question, withdrawn.answer) == (None, "")
    assert await store.live_for_ticket(1) is None
    again = await store.create(proposal(1))
    assert again.id == 2, "once withdrawn, the request can be proposed again"
    assert await store.counts() == {ProposalStatus.WITHDRAWN: 1, ProposalStatus.PENDING: 1}


async def test_pending_proposals_expire_with_the_retention_period(
    store: SqliteProposalStore,
) -> None:
    await store.create(proposal(1, WHEN - timedelta(days=40)))
    await store.create(proposal(2, WHEN))
    assert await store.expire_pending_before(WHEN - timedelta(days=30)) == 1
    [expired] = await store.with_status(ProposalStatus.EXPIRED)
    assert (expired.ticket_id, expired.question) == (1, None)
    [pending] = await store.with_status(ProposalStatus.PENDING)
    assert pending.ticket_id == 2
