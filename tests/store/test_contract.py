"""The store contract, run against SQLite and a real PostgreSQL alike.

Every store operation, the ticket transitions as the store applies them, outbox leases
(claim, renew, expiry, release, settle only by the holder), retention and the feedback
upsert. Where two replicas matter, the test opens two databases on the same data.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.types import Route, Verdict
from bot.escalation import lifecycle
from bot.escalation.events import DeliverRequest, Notice, NotifyAsker, UpdateExpertCard
from bot.escalation.lifecycle import Change, Expert
from bot.escalation.store import TicketStore
from bot.escalation.tickets import CardAddress, Outcome, Reroute, Status, Ticket
from bot.store.answers import AnswerEvent, AnswerStore, MemoryAnswerLog
from bot.store.database import Database, Dialect, Tx
from bot.store.feedback import Feedback, FeedbackStore
from bot.store.migrations import LATEST, migrate
from bot.store.proposals import Proposal, ProposalStatus, ProposalStore
from bot.store.welcomes import WelcomeStore
from tests.store.conftest import OpenDatabase
from tests.store.helpers import confirmed

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
EXPERT = Expert("Alex Boss", "aad-boss", {"serviceUrl": "http://127.0.0.1:9/",
                "conversation": {"id": "a:boss"}}, "activity-7")  # fmt: skip


async def keys(db: Database) -> list[tuple[str, str]]:
    async def read(tx: Tx) -> list[tuple[str, str]]:
        rows = await tx.fetch("SELECT key, state FROM outbox ORDER BY id")
        return [(r["key"], r["state"]) for r in rows]

    return await db.read(read)


# --- schema ----------------------------------------------------------------------------


async def test_migrations_run_once_and_a_second_start_changes_nothing(
    database: Database,
) -> None:
    assert await migrate(database) == []

    async def versions(tx: Tx) -> list[int]:
        return [int(r["version"]) for r in await tx.fetch("SELECT version FROM schema_migrations")]

    assert await database.read(versions) == list(range(1, LATEST + 1))


async def test_two_replicas_starting_together_both_come_up(connect: OpenDatabase) -> None:
    first, second = await asyncio.gather(connect(), connect())
    store = TicketStore(second)
    made = await TicketStore(first).create(confirmed(NOW))
    assert await store.get(made.id) == made


# --- tickets ---------------------------------------------------------------------------


async def test_a_ticket_reads_back_exactly_as_written(database: Database) -> None:
    store = TicketStore(database)
    made = await store.create(confirmed(NOW, offer="offer-1"))
    assert made.id > 0
    assert await store.get(made.id) == made
    assert made.route is Route.LINE_MANAGER
    assert made.status is Status.PENDING
    assert await keys(database) == [(f"deliver:{made.id}:0", "pending")]
    assert await store.get(made.id + 1000) is None


async def test_the_same_offer_makes_one_ticket_and_queues_once(connect: OpenDatabase) -> None:
    first, second = await connect(), await connect()
    change = confirmed(NOW, offer="offer-1")
    a, b = await asyncio.gather(
        TicketStore(first).create(change), TicketStore(second).create(change)
    )
    assert a.id == b.id
    assert len(await keys(first)) == 1
    other = await TicketStore(first).create(confirmed(NOW, offer=""))
    again = await TicketStore(first).create(confirmed(NOW, offer=""))
    assert other.id != again.id, "no offer id: no de-duplication"


async def test_for_asker_is_newest_first_and_limited(database: Database) -> None:
    store = TicketStore(database)
    made = [await store.create(confirmed(NOW, number=1)) for _ in range(3)]
    await store.create(confirmed(NOW, number=2))
    mine = await store.for_asker("29:user-1", limit=2)
    assert [t.id for t in mine] == [made[2].id, made[1].id]


async def test_apply_writes_the_change_and_its_events_or_nothing(database: Database) -> None:
    store = TicketStore(database)
    made = await store.create(confirmed(NOW))
    sent = await store.apply(made.id, lambda t: lifecycle.delivered(t, EXPERT, NOW), NOW)
    assert sent is not None
    assert sent.status is Status.SENT
    assert await store.get(made.id) == sent
    assert sent.expert_card() == CardAddress("http://127.0.0.1:9/", "a:boss", "activity-7")
    # Not from SENT: nothing is written, nothing queued.
    before = await keys(database)
    assert await store.apply(made.id, lambda t: lifecycle.delivered(t, EXPERT, NOW), NOW) is None
    assert await keys(database) == before
    assert await store.apply(made.id + 99, lambda t: lifecycle.closed(t, "x", NOW), NOW) is None


async def test_an_event_key_is_queued_once(database: Database) -> None:
    store = TicketStore(database)
    made = await store.create(confirmed(NOW))
    again = NotifyAsker(Notice.REMINDED, "same")
    for _ in range(2):
        await store.apply(made.id, lambda t: Change(t, (again,)), NOW)
    assert [k for k, _ in await keys(database)].count(again.key(made.id)) == 1


async def test_the_first_answer_wins_when_two_replicas_answer_at_once(
    connect: OpenDatabase,
) -> None:
    first, second = await connect(), await connect()
    made = await TicketStore(first).create(confirmed(NOW))
    await TicketStore(first).apply(made.id, lambda t: lifecycle.delivered(t, EXPERT, NOW), NOW)

    async def answer(db: Database, who: str) -> Ticket | None:
        return await TicketStore(db).apply(
            made.id, lambda t: lifecycle.answered(t, Outcome.APPROVE, "", who, NOW), NOW
        )

    results = await asyncio.gather(answer(first, "Alex"), answer(second, "Dana"))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    stored = await TicketStore(first).get(made.id)
    assert stored is not None
    assert stored.answered_by == winners[0].answered_by
    notices = [k for k, _ in await keys(first) if k.startswith(f"notify:{made.id}:answered")]
    assert len(notices) == 1


async def test_waiting_lists_delivered_tickets_until_they_end(database: Database) -> None:
    store = TicketStore(database)
    pending = await store.create(confirmed(NOW, number=1))
    sent = await store.create(confirmed(NOW, number=2))
    mailed = await store.create(confirmed(NOW, number=3, route=Route.DCCT))
    await store.apply(sent.id, lambda t: lifecycle.delivered(t, EXPERT, NOW), NOW)
    await store.apply(mailed.id, lambda t: lifecycle.mailed(t, NOW), NOW)
    assert [t.id for t in await store.waiting()] == [sent.id, mailed.id]
    later = NOW + timedelta(days=6)
    await store.apply(mailed.id, lambda t: lifecycle.mail_closed(t, later, timedelta(days=5)),
                      later)  # fmt: skip
    assert [t.id for t in await store.waiting()] == [sent.id]
    assert pending.id not in [t.id for t in await store.waiting()]


async def test_status_transitions_through_the_store(database: Database) -> None:
    """A whole round: delivered, taken, answered, followed up, rerouted, withdrawn."""
    store = TicketStore(database)
    made = await store.create(confirmed(NOW))
    steps = [
        (lambda t: lifecycle.delivered(t, EXPERT, NOW), Status.SENT),
        (lambda t: lifecycle.taken(t, "Dana", NOW), Status.TAKEN),
        (lambda t: lifecycle.answered(t, Outcome.CHANGES, "Crop.", "Dana", NOW), Status.ANSWERED),
        (lambda t: lifecycle.followed_up(t, "And now?", 8000, NOW), Status.PENDING),
        (lambda t: lifecycle.delivered(t, EXPERT, NOW), Status.SENT),
        (lambda t: lifecycle.rerouted(t, Reroute.DEADLINE, NOW), Status.PENDING),
        (lambda t: lifecycle.withdrawn(t, NOW), Status.CANCELLED),
    ]  # fmt: skip
    for transition, status in steps:
        updated = await store.apply(made.id, transition, NOW)
        assert updated is not None, status
        assert updated.status is status, (status, updated)
    final = await store.get(made.id)
    assert final is not None
    assert (final.route, final.rerouted, final.follow_ups) == (Route.DCCT, Reroute.DEADLINE, 1)
    assert final.closed_at == NOW
    queued = [k for k, _ in await keys(database)]
    i = made.id
    assert queued == [
        f"deliver:{i}:0", f"notify:{i}:sent:line_manager-0", f"notify:{i}:taken:0",
        f"notify:{i}:answered:0", f"deliver:{i}:followup-1", f"notify:{i}:sent:line_manager-1",
        f"deliver:{i}:deadline", f"notify:{i}:rerouted:deadline", f"update:{i}:moved-1",
    ]  # fmt: skip


# --- the outbox --------------------------------------------------------------------------


async def queue(store: TicketStore, count: int, at: datetime = NOW) -> list[int]:
    made = [await store.create(confirmed(at, number=n)) for n in range(count)]
    return [t.id for t in made]


async def test_claim_leases_due_rows_in_order_and_counts_an_attempt(database: Database) -> None:
    store = TicketStore(database)
    await queue(store, 3)
    later = await store.create(confirmed(NOW + timedelta(hours=1), number=9))
    rows = await store.claim("worker-a", NOW, LEASE, limit=2)
    assert [r.ticket_id for r in rows] == sorted(r.ticket_id for r in rows)
    assert len(rows) == 2
    assert {(r.attempts, r.claimed_by, r.lease_until) for r in rows} == {
        (1, "worker-a", NOW + LEASE)
    }
    assert isinstance(rows[0].event, DeliverRequest)
    rest = await store.claim("worker-a", NOW, LEASE, limit=10)
    assert len(rest) == 1, "the row due in an hour is not due yet"
    assert later.id not in [r.ticket_id for r in rows + rest]
    assert await store.outbox_counts() == {"sending": 3, "pending": 1}


async def test_a_live_lease_is_never_taken_and_an_expired_one_is(
    connect: OpenDatabase,
) -> None:
    a, b = TicketStore(await connect()), TicketStore(await connect())
    await queue(a, 1)
    [row] = await a.claim("worker-a", NOW, LEASE, limit=10)
    assert await b.claim("worker-b", NOW + LEASE - timedelta(seconds=1), LEASE, 10) == []
    # worker-a renews: still its own a whole lease later.
    assert await a.renew("worker-a", NOW + 2 * LEASE) == 1
    assert await b.claim("worker-b", NOW + LEASE + timedelta(seconds=1), LEASE, 10) == []
    # worker-a is dead: once its lease has run out, worker-b takes the row over.
    expired = NOW + 2 * LEASE
    [taken] = await b.claim("worker-b", expired, LEASE, 10)
    assert (taken.id, taken.attempts, taken.claimed_by) == (row.id, 2, "worker-b")
    # The old holder can no longer settle it; the new one can.
    assert await a.mark_done(row, "worker-a", expired) is False
    assert await a.reschedule(row.id, "worker-a", expired, "late") is False
    assert await a.mark_dead(row.id, "worker-a", "late") is False
    assert await b.mark_done(taken, "worker-b", expired) is True
    assert await a.outbox_counts() == {"done": 1}


async def test_a_finished_send_records_its_ticket_change_with_the_row(
    database: Database,
) -> None:
    store = TicketStore(database)
    [ticket_id] = await queue(store, 1)
    [row] = await store.claim("worker-a", NOW, LEASE, limit=10)
    assert await store.mark_done(
        row, "worker-a", NOW, lambda t: lifecycle.delivered(t, EXPERT, NOW)
    )
    ticket = await store.get(ticket_id)
    assert ticket is not None
    assert ticket.status is Status.SENT
    assert await keys(database) == [
        (f"deliver:{ticket_id}:0", "done"), (f"notify:{ticket_id}:sent:line_manager-0", "pending")
    ]  # fmt: skip
    # A worker whose lease was lost still records what its send did, and only that.
    [notice] = await store.claim("worker-a", NOW, LEASE, limit=10)
    late = NOW + 2 * LEASE
    await store.claim("worker-b", late, LEASE, limit=10)
    closing = lambda t: lifecycle.closed(t, "Alex", late)  # noqa: E731
    assert await store.mark_done(notice, "worker-a", late, closing) is False
    closed = await store.get(ticket_id)
    assert closed is not None
    assert closed.status is Status.CLOSED
    assert await store.outbox_counts() == {"done": 1, "sending": 1, "pending": 1}


async def test_concurrent_claims_never_share_a_row(connect: OpenDatabase) -> None:
    stores = [TicketStore(await connect()) for _ in range(2)]
    await queue(stores[0], 40)

    async def take_all(store: TicketStore, name: str) -> list[int]:
        got: list[int] = []
        while rows := await store.claim(name, NOW, LEASE, limit=3):
            got += [r.id for r in rows]
            await asyncio.sleep(0)
        return got

    a, b = await asyncio.gather(take_all(stores[0], "a"), take_all(stores[1], "b"))
    assert not set(a) & set(b)
    assert len(a) + len(b) == 40


async def test_release_hands_back_unstarted_rows_without_an_attempt(database: Database) -> None:
    store = TicketStore(database)
    await queue(store, 2)
    rows = await store.claim("worker-a", NOW, LEASE, limit=10)
    assert await store.mark_done(rows[0], "worker-a", NOW)
    assert await store.release("worker-a") == 1
    [again] = await store.claim("worker-b", NOW, LEASE, limit=10)
    assert (again.id, again.attempts) == (rows[1].id, 1)


async def test_reschedule_and_dead(database: Database) -> None:
    store = TicketStore(database)
    await queue(store, 2)
    first, second = await store.claim("w", NOW, LEASE, limit=10)
    assert await store.reschedule(first.id, "w", NOW + timedelta(minutes=5), "429 " * 200)
    assert await store.mark_dead(second.id, "w", "403")
    assert await store.claim("w", NOW + timedelta(minutes=4), LEASE, 10) == []
    [retried] = await store.claim("w", NOW + timedelta(minutes=5), LEASE, 10)
    assert (retried.id, retried.attempts) == (first.id, 2)

    async def errors(tx: Tx) -> list[str]:
        return [r["last_error"] for r in await tx.fetch("SELECT last_error FROM outbox")]

    assert all(e is None or len(e) <= 500 for e in await database.read(errors))
    assert await store.outbox_counts() == {"sending": 1, "dead": 1}


async def test_update_events_keep_the_card_address(database: Database) -> None:
    store = TicketStore(database)
    made = await store.create(confirmed(NOW))
    card = CardAddress("http://127.0.0.1:9/", "a:boss", "activity-7")
    event = UpdateExpertCard(card, moved=True, tag="t")
    await store.apply(made.id, lambda t: Change(t, (event,)), NOW)
    rows = await store.claim("w", NOW, LEASE, limit=10)
    assert [r.event for r in rows][-1] == UpdateExpertCard(card, moved=True, tag="")


# --- retention -------------------------------------------------------------------------


async def test_retention_deletes_closed_tickets_with_their_rows_and_keeps_open_ones(
    database: Database,
) -> None:
    store = TicketStore(database)
    old = NOW - timedelta(days=40)
    closed, open_one = await store.create(confirmed(old)), await store.create(confirmed(old, 2))
    await store.apply(closed.id, lambda t: lifecycle.delivered(t, EXPERT, old), old)
    await store.apply(closed.id, lambda t: lifecycle.closed(t, "Alex", old), old)
    assert await store.purge_closed_before(NOW - timedelta(days=30)) == 1
    assert await store.get(closed.id) is None
    assert await store.get(open_one.id) is not None
    assert [k for k, _ in await keys(database)] == [f"deliver:{open_one.id}:0"]
    assert await store.purge_closed_before(NOW) == 0


async def test_feedback_upsert_keeps_what_the_card_was_about(database: Database) -> None:
    """The settled rule: a second click replaces the vote, comment, question and time;
    the entry, verdict, policy version and channel stay as first recorded."""
    store = FeedbackStore(database)
    first = Feedback("card-1", "entry-a", "ok", "sha256:1", False, "msteams", NOW,
                     comment="unclear", question="my question")  # fmt: skip
    await store.record(first)
    later = NOW + timedelta(minutes=3)
    second = replace(first, entry="entry-b", verdict="not_ok", policy_version="sha256:2",
                     channel="directline", helpful=True, created_at=later, comment=None,
                     question=None)  # fmt: skip
    await store.record(second)
    [row] = await store.all()
    assert row == replace(first, helpful=True, created_at=later, comment=None, question=None)


async def test_feedback_text_is_purged_and_the_vote_kept(database: Database) -> None:
    store = FeedbackStore(database)
    old = NOW - timedelta(days=31)
    await store.record(Feedback("old", None, "ok", "v", True, "msteams", old, comment="c"))
    await store.record(Feedback("new", None, "ok", "v", True, "msteams", NOW, question="q"))
    await store.record(Feedback("bare", None, "ok", "v", True, "msteams", old))
    assert await store.purge_text_before(NOW - timedelta(days=30)) == 1
    rows = {r.card_id: r for r in await store.all()}
    assert (rows["old"].comment, rows["old"].helpful) == (None, True)
    assert rows["new"].question == "q"
    assert [r.card_id for r in await store.all()] == ["bare", "old", "new"]


# --- welcomes --------------------------------------------------------------------------


async def test_one_welcome_per_conversation_even_from_two_replicas(
    connect: OpenDatabase,
) -> None:
    a, b = WelcomeStore(await connect()), WelcomeStore(await connect())
    results = await asyncio.gather(*(s.first("a:chat-1", NOW) for s in (a, b, a, b)))
    assert sorted(results) == [False, False, False, True]
    assert await a.first("a:chat-2", NOW) is True
    assert await b.first("a:chat-1", NOW + timedelta(seconds=30)) is False
    assert await b.first("a:chat-1", NOW + timedelta(seconds=61)) is True, "a new install"
    assert await a.purge_before(NOW + timedelta(seconds=1)) == 1  # chat-2's row goes


# --- proposals (DCCT rulings) ------------------------------------------------------------


def proposal(ticket_id: int, when: datetime = NOW) -> Proposal:
    return Proposal(0, ticket_id, ProposalStatus.PENDING, "Can I post it?", Verdict.ASK,
                    ("D2", "F2"), Route.DCCT, "Ask first.", "Dana", "aad-d", when,
                    "sha256:151d76d8fc70")  # fmt: skip


async def test_one_live_proposal_per_request_even_from_two_replicas(
    connect: OpenDatabase,
) -> None:
    first, second = await connect(), await connect()
    a, b = await asyncio.gather(
        ProposalStore(first).create(proposal(1)), ProposalStore(second).create(proposal(1))
    )
    assert a == b
    assert a.id > 0
    assert await ProposalStore(first).get(a.id) == a
    assert await ProposalStore(second).live_for_ticket(1) == a


async def test_proposals_are_decided_once_and_removed_ones_lose_their_text(
    database: Database,
) -> None:
    store = ProposalStore(database)
    made = await store.create(proposal(1))
    assert await store.pending_count() == 1
    by: dict[str, Any] = {"by_name": "Eilidh", "by_aad": "aad-e", "at": NOW}
    approved = await store.decide(made.id, ProposalStatus.APPROVED, **by,
                                  only_if=(ProposalStatus.PENDING,),
                                  policy_version="sha256:aaaaaaaaaaaa")  # fmt: skip
    assert approved is not None
    assert (approved.status, approved.decided_by, approved.policy_version) == (
        ProposalStatus.APPROVED, "Eilidh", "sha256:aaaaaaaaaaaa")  # fmt: skip
    assert await store.pending_count() == 0, "approved: no longer waiting"
    assert await store.get(made.id) == approved, "reads back exactly as written"
    assert await store.decide(made.id, ProposalStatus.REJECTED, **by,
                              only_if=(ProposalStatus.PENDING,)) is None  # fmt: skip
    withdrawn = await store.decide(made.id, ProposalStatus.WITHDRAWN, **by,
                                   only_if=(ProposalStatus.APPROVED,))  # fmt: skip
    assert withdrawn is not None
    assert (withdrawn.question, withdrawn.answer) == (None, "")
    assert await store.get(made.id) == withdrawn
    assert await store.live_for_ticket(1) is None
    again = await store.create(proposal(1))
    assert again.id > made.id, "once withdrawn, the request can be proposed again"
    assert await store.counts() == {ProposalStatus.WITHDRAWN: 1, ProposalStatus.PENDING: 1}
    assert [p.id for p in await store.with_status(*ProposalStatus)] == [again.id, made.id]


async def test_pending_proposals_expire_with_the_retention_period(database: Database) -> None:
    store = ProposalStore(database)
    await store.create(proposal(1, NOW - timedelta(days=40)))
    await store.create(proposal(2, NOW))
    assert await store.expire_pending_before(NOW - timedelta(days=30)) == 1
    [expired] = await store.with_status(ProposalStatus.EXPIRED)
    assert (expired.ticket_id, expired.question) == (1, None)
    [pending] = await store.with_status(ProposalStatus.PENDING)
    assert pending.ticket_id == 2


async def test_the_dialect_is_the_real_one(database: Database) -> None:
    async def version(tx: Tx) -> str:
        if database.dialect is Dialect.POSTGRES:
            return str((await tx.fetch("SHOW server_version"))[0]["server_version"])
        return str((await tx.fetch("SELECT sqlite_version() AS v"))[0]["v"])

    assert (await database.read(version))[0].isdigit()


# --- answer records (the DCCT's insights) -------------------------------------------------


def answer_event(when: datetime, verdict: str = "ok") -> AnswerEvent:
    return AnswerEvent(when, verdict, "e1", ("D13", "D4"), "high", "sha256:v1", "msteams")


async def test_answer_records_keep_the_hour_and_read_by_period_like_the_fake(
    database: Database,
) -> None:
    real, fake = AnswerStore(database), MemoryAnswerLog()
    times = [NOW + timedelta(minutes=47, seconds=31), NOW - timedelta(days=8),
             NOW + timedelta(days=1), NOW - timedelta(days=400, minutes=3)]  # fmt: skip
    for log in (real, fake):
        for number, when in enumerate(times):
            await log.record(answer_event(when, verdict=f"v{number}"))
    since, until = NOW - timedelta(days=1), NOW + timedelta(hours=1)
    [found] = await real.between(since, until)
    assert found == answer_event(NOW, verdict="v0"), "to the hour, in UTC, clauses intact"
    assert found.answered_at.tzinfo is not None
    wide = (NOW - timedelta(days=500), NOW + timedelta(days=2))
    assert await real.between(*wide) == await fake.between(*wide)
    assert [e.verdict for e in await real.between(*wide)] == ["v3", "v1", "v0", "v2"]
    cutoff = NOW - timedelta(days=365)
    assert await real.purge_before(cutoff) == await fake.purge_before(cutoff) == 1
    assert await real.between(*wide) == await fake.between(*wide)
