"""The anonymous answer records: written when the bot answers, with no text or person,
to the hour; deleted after their own retention period. (What the store does on both
databases is in tests/store/test_contract.py.)"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import ANSWERS_KEY, DATABASE_KEY
from bot.clock import FakeClock
from bot.fakes import activities
from bot.fakes.activities import TeamsUser
from bot.store.answers import AnswerEvent, AnswerStore
from bot.store.feedback import FeedbackStore
from bot.store.retention import purge_once
from bot.store.sqlite import SqliteDatabase
from tests.channels.conftest import Running, actions_of, cards_in

NOW = datetime(2026, 3, 4, 10, 47, 31, tzinfo=UTC)
QUESTION = "Can I post that the Conservatives are a disgrace on my own Twitter?"


def event(when: datetime, verdict: str = "ok", entry: str | None = "e1") -> AnswerEvent:
    return AnswerEvent(when, verdict, entry, ("D13", "D4"), "high", "sha256:v1", "msteams")


async def test_answer_records_have_their_own_retention(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "r.sqlite3")
    await db.open()
    log, feedback = AnswerStore(db), FeedbackStore(db)
    for days in (10, 100, 400):
        await log.record(event(NOW - timedelta(days=days)))
    purges = {"feedback": feedback.purge_text_before, "answer_events": log.purge_before}
    counts = await purge_once(purges, FakeClock(NOW), 30, {"answer_events": 365})
    assert counts == {"feedback": 0, "answer_events": 1}, "only the 400-day-old record goes"
    left = await log.between(NOW - timedelta(days=500), NOW)
    assert len(left) == 2
    await db.close()


async def test_the_bot_records_each_answer_without_text_or_person(running: Running) -> None:
    user = TeamsUser()
    url = running.connector.service_url
    [card] = cards_in(await running.turn(activities.message(QUESTION, user, url)))
    helpful = next(a for a in actions_of(card) if a["title"] == "👍 Helpful")
    await running.turn(activities.card_submit(helpful["data"], user, url, reply_to="activity-1"))
    await running.turn(activities.message("help", user, url))
    [hello] = await running.turn(activities.message("Hi!", user, url))
    assert cards_in([hello]) == [], "small talk: a friendly line, and not a question"

    log = running.app[ANSWERS_KEY]
    [recorded] = await log.between(NOW - timedelta(days=3650), NOW + timedelta(days=3650))
    assert (recorded.verdict, recorded.entry, recorded.channel) == (
        "not_ok",
        "party-political-posts",
        "msteams",
    )
    assert "D13" in recorded.clauses
    assert recorded.answered_at == running.clock.now().replace(minute=0, second=0)
    # Nothing in the table could say who asked or what: every stored value, checked.
    database = running.app[DATABASE_KEY]
    assert isinstance(database, SqliteDatabase)
    conn = sqlite3.connect(database.path)
    [row] = conn.execute("SELECT * FROM answer_events").fetchall()
    conn.close()
    stored = " ".join(str(value) for value in row)
    for personal in (QUESTION, "Conservatives", user.id, user.aad_object_id, user.name,
                     user.conversation_id):  # fmt: skip
        assert personal not in stored


async def test_privacy_command_says_how_long_the_records_are_kept(running: Running) -> None:
    url = running.connector.service_url
    [reply] = await running.turn(activities.message("privacy", TeamsUser(), url))
    text = reply.activity["text"]
    assert "without your question or who you are" in text
    assert "deleted after 365 days" in text
