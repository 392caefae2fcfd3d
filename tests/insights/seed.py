"""Records to build insights from: a small set with figures worked out by hand, and a
larger one (twelve weeks) that makes a realistic page for the screenshot."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.types import Route, Verdict
from bot.escalation.tickets import Status, Ticket, encode
from bot.store.answers import AnswerEvent, AnswerLog
from bot.store.database import Database, Tx
from bot.store.feedback import Feedback, FeedbackStore
from bot.store.proposals import Proposal, ProposalStatus

# Wednesday 7 January 2026, 10:00 in Edinburgh (GMT): weeks start on 5, 12, 19 January.
WEEK1 = datetime(2026, 1, 7, 10, 0, tzinfo=UTC)
PARTY, PHOTOS, GOSSIP = "party-political-posts", "workplace-photos", "internal-news-gossip"
SHARED_QUESTION = "Can I post our team photo from the away day?"
SHARED_COMMENT = "It didn't say what to do about group photos."
UNSHARED_QUESTION = "Is my colleague's leaving do OK to mention?"


def answer(when: datetime, verdict: str, entry: str | None, clauses: tuple[str, ...] = (),
           band: str = "high") -> AnswerEvent:  # fmt: skip
    return AnswerEvent(when, verdict, entry, clauses, band, "sha256:v1", "msteams")


async def seed_answers(log: AnswerLog, week1: datetime = WEEK1) -> None:
    """Three weeks:

    - w/c 5 Jan: 12 OK (3 of them low confidence), 6 caution, 2 not OK, 5 info → 25
    - w/c 12 Jan: 3 OK → 3
    - w/c 19 Jan: 20 OK, 10 caution, 10 ask first → 40
    and one answer either side of the period (three days before, nineteen after).
    """
    week2, week3 = week1 + timedelta(weeks=1), week1 + timedelta(weeks=2)
    events = (
        [answer(week1, "ok", PARTY, band="low" if i < 3 else "high") for i in range(12)]
        + [answer(week1, "caution", PHOTOS, ("D1",))] * 6
        + [answer(week1, "not_ok", GOSSIP, ("D9",))] * 2
        + [answer(week1, "info", None, ("D4",))] * 5
        + [answer(week2, "ok", PARTY)] * 3
        + [answer(week3, "ok", PARTY)] * 20
        + [answer(week3, "caution", PHOTOS)] * 10
        + [answer(week3, "ask", None)] * 10
        + [answer(week1 - timedelta(days=3), "not_ok", GOSSIP),
           answer(week1 + timedelta(days=19), "not_ok", GOSSIP)]
    )  # fmt: skip
    for event in events:
        await log.record(event)


async def seed_feedback(store: FeedbackStore, week1: datetime = WEEK1) -> None:
    """PARTY: 7 not helpful, 9 helpful; PHOTOS: 2 not helpful (one sent its question and
    a comment, with consent); GOSSIP: 1 not helpful, question not shared."""
    votes = [(PARTY, False)] * 7 + [(PARTY, True)] * 9 + [(PHOTOS, False)]
    for number, (entry, helpful) in enumerate(votes):
        await store.record(Feedback(f"card-{number}", entry, "ok", "sha256:v1", helpful,
                                    "msteams", week1 + timedelta(minutes=number)))  # fmt: skip
    await store.record(Feedback("card-shared", PHOTOS, "caution", "sha256:v1", False, "msteams",
                                week1 + timedelta(days=1), comment=SHARED_COMMENT,
                                question=SHARED_QUESTION))  # fmt: skip
    await store.record(Feedback("card-gossip", GOSSIP, "not_ok", "sha256:v1", False, "msteams",
                                week1 + timedelta(days=2)))  # fmt: skip
    await store.record(Feedback("card-late", PARTY, "ok", "sha256:v1", False, "msteams",
                                week1 + timedelta(days=44)))  # fmt: skip


def ticket(created: datetime, route: Route, number: int, **changes: Any) -> Ticket:
    values: dict[str, Any] = {"status": Status.SENT, **changes}
    return Ticket(
        id=0, created_at=created, route=route,
        asker_user_id=f"29:asker-{number}", asker_aad=f"aad-asker-{number}",
        asker_name=f"Asker {number}", asker_conversation={}, tenant_id="t",
        question=f"Private question number {number}", verdict="ask", clauses="F1",
        entry=None, policy_version="sha256:v1", **values,
    )  # fmt: skip


async def write_tickets(db: Database, tickets: list[Ticket]) -> None:
    """Tickets as the store keeps them, at the end of lives the lifecycle gave them."""

    async def write(tx: Tx) -> None:
        for made in tickets:
            await tx.execute(
                "INSERT INTO tickets (data, status, asker_user_id, closed_at) VALUES (?,?,?,?)",
                (encode(made), made.status.value, made.asker_user_id, made.closed_at),
            )

    await db.transact(write)


async def seed_tickets(db: Database, week1: datetime = WEEK1) -> None:
    """Line manager: 10 requests on Wednesday 7 January at 10:00, 5 answered after 1 to 5
    working hours (median 3.0), 5 reminded; DCCT: 3 requests, 1 answered."""
    made = []
    for number in range(10):
        if number < 5:
            done = week1 + timedelta(hours=number + 1)
            made.append(ticket(week1, Route.LINE_MANAGER, number, status=Status.ANSWERED,
                               answered_at=done, closed_at=done))  # fmt: skip
        else:
            made.append(ticket(week1, Route.LINE_MANAGER, number,
                               reminded_at=week1 + timedelta(days=1)))  # fmt: skip
    later = week1 + timedelta(days=7)
    made.append(ticket(later, Route.DCCT, 10, status=Status.ANSWERED,
                       answered_at=later + timedelta(hours=2)))  # fmt: skip
    made += [ticket(later, Route.DCCT, number) for number in (11, 12)]
    await write_tickets(db, made)


async def seed_showcase(log: AnswerLog, feedback: FeedbackStore, start: datetime) -> None:
    """Twelve weeks of plausible traffic from Monday `start`, the same every run."""
    rng = random.Random(17)
    entries = {
        "ok": ["personal-life-posts", "share-official-posts", "say-where-i-work",
               "share-job-adverts", "personal-achievements"],
        "caution": ["workplace-photos", "describing-my-job", "colleague-photos-with-permission"],
        "not_ok": ["party-political-posts", "internal-news-gossip", "public-policy-opinions"],
        "ask": ["media-interviews-podcasts", "speaking-for-parliament", "filming-at-work"],
        "info": ["who-to-ask", "what-is-dcct"],
        "out_of_scope": ["it-support"],
    }  # fmt: skip
    weights = {"ok": 9, "caution": 4, "not_ok": 3, "ask": 2, "info": 1.2, "out_of_scope": 0.4}
    for week in range(12):
        for _ in range(28 + 3 * week + rng.randint(0, 12)):
            verdict = rng.choices(list(weights), list(weights.values()))[0]
            when = start + timedelta(weeks=week, days=rng.randint(0, 4), hours=rng.randint(9, 17))
            band = rng.choices(["high", "middle", "low"], [7, 2, 1])[0]
            await log.record(answer(when, verdict, rng.choice(entries[verdict]), band=band))
    for number in range(60):
        entry = rng.choice(["workplace-photos", "describing-my-job", "party-political-posts",
                            "share-official-posts", "media-interviews-podcasts"])  # fmt: skip
        when = start + timedelta(days=rng.randint(0, 80), hours=10)
        await feedback.record(Feedback(f"show-{number}", entry, "caution", "sha256:v1",
                                       rng.random() < 0.55, "msteams", when))  # fmt: skip
    await feedback.record(Feedback("show-shared", "workplace-photos", "caution", "sha256:v1",
                                   False, "msteams", start + timedelta(days=30),
                                   comment=SHARED_COMMENT, question=SHARED_QUESTION))  # fmt: skip


def proposal(ticket_id: int, when: datetime) -> Proposal:
    """A ruling proposed on the DCCT's desk, waiting for a second member."""
    return Proposal(0, ticket_id, ProposalStatus.PENDING, "Can I share the published report?",
                    Verdict.OK, ("D4",), Route.NONE, "", "Dana Comms", "aad-dana", when,
                    "sha256:151d76d8fc70")  # fmt: skip
