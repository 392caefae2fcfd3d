"""Personal data goes on schedule: feedback text after the retention period, closed
tickets (question, answer, names, conversation references) entirely; open ones stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import FakeClock
from bot.escalation.tickets import OutboxItem, SqliteTicketStore, Status, Ticket
from bot.store.database import Database
from bot.store.feedback import Feedback, SqliteFeedbackStore
from bot.store.retention import purge_once

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def ticket(created: datetime) -> Ticket:
    return Ticket(
        id=0, created_at=created, status=Status.PENDING, route="dcct", asker_user_id="29:u",
        asker_aad="aad-u", asker_name="Morag Stewart", asker_conversation={"serviceUrl": "x"},
        tenant_id="t", question="Can I post this?", verdict="ask", clauses="F2", entry=None,
        policy_version="sha256:x",
    )  # fmt: skip


async def test_purge_deletes_old_closed_tickets_and_old_feedback_text(tmp_path: Path) -> None:
    db = Database(tmp_path / "r.sqlite3")
    tickets, feedback = SqliteTicketStore(db), SqliteFeedbackStore(db)
    await tickets.open()
    await feedback.open()
    old = NOW - timedelta(days=40)
    closed_long_ago = await tickets.create(
        ticket(old), [OutboxItem("deliver_request", "d:{ticket}")]
    )
    closed_recently = await tickets.create(ticket(old), [])
    still_open = await tickets.create(ticket(old), [])
    await tickets.update(closed_long_ago.id, {"status": Status.ANSWERED, "closed_at": old}, now=old)
    recent = NOW - timedelta(days=2)
    await tickets.update(closed_recently.id, {"status": Status.CLOSED, "closed_at": recent},
                         now=recent)  # fmt: skip
    for card, when in (("old-card", old), ("new-card", recent)):
        await feedback.record(Feedback(card, "e", "ok", "v", False, "msteams", when,
                                       comment="why", question="my question"))  # fmt: skip

    purges = {"tickets": tickets.purge_closed_before, "feedback": feedback.purge_text_before}
    counts = await purge_once(purges, FakeClock(NOW), 30)

    assert counts == {"tickets": 1, "feedback": 1}
    assert await tickets.get(closed_long_ago.id) is None
    assert await tickets.get(closed_recently.id) is not None
    assert (await tickets.get(still_open.id)) is not None, "open tickets are never purged"
    assert await tickets.outbox_counts() == {}
    rows = {row.card_id: row for row in await feedback.all()}
    assert (rows["old-card"].question, rows["old-card"].comment) == (None, None)
    assert rows["old-card"].helpful is False, "the vote itself is kept: it holds no text"
    assert rows["new-card"].question == "my question"
    await db.close()
