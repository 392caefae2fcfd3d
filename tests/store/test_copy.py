"""`python -m bot store migrate`: a SQLite file's data moves to PostgreSQL whole, ids and
all, and a second run copies nothing twice. Run as the operator runs it: a process."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.types import Route, Verdict
from bot.escalation import lifecycle
from bot.escalation.lifecycle import Expert
from bot.escalation.store import TicketStore
from bot.escalation.tickets import Outcome, Status, Ticket
from bot.store.answers import AnswerEvent, AnswerStore
from bot.store.database import Database, Tx
from bot.store.feedback import Feedback, FeedbackStore
from bot.store.postgres import PostgresDatabase
from bot.store.proposals import Proposal, ProposalStatus, ProposalStore
from bot.store.sqlite import SqliteDatabase
from bot.store.welcomes import WelcomeStore
from tests.conftest import ROOT
from tests.store.helpers import confirmed

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PROPOSAL = Proposal(0, 1, ProposalStatus.PENDING, "May I post the report?", Verdict.OK, ("D4",),
                    Route.DCCT, "Yes.", "Dana", "aad-d", NOW, "sha256:1")  # fmt: skip
ANSWERED = AnswerEvent(NOW, "ok", "entry-a", ("D4",), "high", "sha256:1", "msteams")
EXPERT = Expert("Alex Boss", "aad-boss", {"serviceUrl": "http://x/",
                "conversation": {"id": "a:boss"}}, "activity-7")  # fmt: skip


def store_migrate(source: str, target: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "store", "migrate", "--from", source, "--to", target],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def outbox(db: Database) -> list[tuple[str, str, int]]:
    async def read(tx: Tx) -> list[tuple[str, str, int]]:
        rows = await tx.fetch("SELECT key, state, attempts FROM outbox ORDER BY id")
        return [(r["key"], r["state"], int(r["attempts"])) for r in rows]

    return await db.read(read)


async def fill(path: Path) -> tuple[list[Ticket], list[Feedback]]:
    db = SqliteDatabase(path)
    await db.open()
    store = TicketStore(db)
    made = [await store.create(confirmed(NOW, n, offer=f"offer-{n}")) for n in range(5)]
    rows = await store.claim("old-replica", NOW, timedelta(seconds=60), limit=2)
    await store.mark_done(rows[0], "old-replica", NOW,
                          lambda t: lifecycle.delivered(t, EXPERT, NOW))  # fmt: skip
    await store.apply(made[0].id, lambda t: lifecycle.answered(t, Outcome.REPLY,
                      "Fine.", "Alex", NOW), NOW)  # fmt: skip
    feedback = [Feedback("card-1", "entry-a", "ok", "sha256:1", True, "msteams", NOW),
                Feedback("card-2", None, "ask", "sha256:1", False, "msteams", NOW,
                         comment="unclear", question="may I?")]  # fmt: skip
    for item in feedback:
        await FeedbackStore(db).record(item)
    await WelcomeStore(db).first("a:chat", NOW)
    await ProposalStore(db).create(PROPOSAL)
    await AnswerStore(db).record(ANSWERED)
    tickets = [t for t in [await store.get(m.id) for m in made] if t is not None]
    await db.close()
    return tickets, feedback


async def test_store_migrate_moves_a_sqlite_file_to_postgres(
    tmp_path: Path, postgres_url: str
) -> None:
    path = tmp_path / "adviser.sqlite3"
    tickets, feedback = await fill(path)
    source = SqliteDatabase(path)
    await source.open()
    before = await outbox(source)
    await source.close()

    done = store_migrate(f"sqlite:///{path}", postgres_url)
    assert done.returncode == 0, done.stderr
    assert "tickets             5 read       5 copied       0 already there" in done.stdout
    assert "proposals           1 read       1 copied       0 already there" in done.stdout
    assert "answer_events       1 read       1 copied       0 already there" in done.stdout

    target = PostgresDatabase(postgres_url)
    await target.open()
    try:
        store = TicketStore(target)
        assert [await store.get(t.id) for t in tickets] == tickets, "ids and contents kept"
        assert (await store.get(tickets[0].id)).status is Status.ANSWERED  # type: ignore[union-attr]
        # The row the stopped bot held mid-send is queued again; the rest as they were.
        held = [k for k, state, _ in before if state == "sending"]
        assert len(held) == 1
        assert [(k, "pending" if k in held else s, a) for k, s, a in before] == await outbox(target)
        assert await FeedbackStore(target).all() == feedback
        assert await WelcomeStore(target).first("a:chat", NOW) is False, "copied too"
        # Every table of every migration: the DCCT's proposals and the answer records too.
        proposals = ProposalStore(target)
        [copied] = await proposals.with_status(ProposalStatus.PENDING)
        assert copied == replace(PROPOSAL, id=copied.id)
        assert (await proposals.create(replace(PROPOSAL, ticket_id=2))).id == copied.id + 1
        wide = (NOW - timedelta(days=1), NOW + timedelta(days=1))
        assert await AnswerStore(target).between(*wide) == [ANSWERED]
        # New tickets continue after the copied ids, and the offer rule still holds.
        new = await store.create(confirmed(NOW, 9))
        assert new.id == max(t.id for t in tickets) + 1
        again = await store.create(confirmed(NOW, 1, offer="offer-1"))
        assert again.id == tickets[1].id
    finally:
        await target.close()

    rerun = store_migrate(f"sqlite:///{path}", postgres_url)
    assert rerun.returncode == 0, rerun.stderr
    assert "tickets             5 read       0 copied       5 already there" in rerun.stdout


def test_store_migrate_refuses_what_it_cannot_use(tmp_path: Path) -> None:
    bad = store_migrate("mysql://u@h/db", f"sqlite:///{tmp_path}/x.db")
    assert bad.returncode == 2
    assert "expected postgresql" in bad.stderr
    same = store_migrate(f"sqlite:///{tmp_path}/x.db", f"sqlite:///{tmp_path}/x.db")
    assert same.returncode == 2
    assert "the same database" in same.stderr
