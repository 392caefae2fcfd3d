"""Personal data goes on schedule: feedback text after the retention period, closed
tickets (question, answer, names, conversation references) entirely; open ones stay."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import FakeClock
from bot.core.types import Route
from bot.escalation.lifecycle import Change
from bot.escalation.store import TicketStore
from bot.escalation.tickets import Status, Ticket
from bot.store.feedback import Feedback, FeedbackStore
from bot.store.retention import purge_once
from bot.store.sqlite import SqliteDatabase
from tests.store.helpers import new_ticket

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def ticket(created: datetime) -> Ticket:
    return replace(new_ticket(created), route=Route.DCCT)


async def test_purge_deletes_old_closed_tickets_and_old_feedback_text(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "r.sqlite3")
    await db.open()
    tickets, feedback = TicketStore(db), FeedbackStore(db)
    old = NOW - timedelta(days=40)
    closed_long_ago = await tickets.create(Change(ticket(old)))
    closed_recently = await tickets.create(Change(ticket(old)))
    still_open = await tickets.create(Change(ticket(old)))

    def closing(status: Status, when: datetime):  # type: ignore[no-untyped-def]
        return lambda t: Change(replace(t, status=status, closed_at=when))

    await tickets.apply(closed_long_ago.id, closing(Status.ANSWERED, old), old)
    recent = NOW - timedelta(days=2)
    await tickets.apply(closed_recently.id, closing(Status.CLOSED, recent), recent)
    for card, when in (("old-card", old), ("new-card", recent)):
        await feedback.record(Feedback(card, "e", "ok", "v", False, "msteams", when,
                                       comment="why", question="my question"))  # fmt: skip

    purges = {"tickets": tickets.purge_closed_before, "feedback": feedback.purge_text_before}
    counts = await purge_once(purges, FakeClock(NOW), 30)

    assert counts == {"tickets": 1, "feedback": 1}
    assert await tickets.get(closed_long_ago.id) is None
    assert await tickets.get(closed_recently.id) is not None
    assert (await tickets.get(still_open.id)) is not None, "open tickets are never purged"
    rows = {row.card_id: row for row in await feedback.all()}
    assert (rows["old-card"].question, rows["old-card"].comment) == (None, None)
    assert rows["old-card"].helpful is False, "the vote itself is kept: it holds no text"
    assert rows["new-card"].question == "my question"
    await db.close()
