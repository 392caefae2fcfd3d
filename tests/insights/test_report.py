"""The figures on a seeded store, worked out by hand (tests/insights/seed.py), the same
through the command line; no question text unless its asker sent it with feedback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.core import Adviser
from bot.core.types import Verdict
from bot.escalation.store import TicketStore
from bot.insights.privacy import FEWER_THAN, HIDDEN
from bot.insights.report import Insights, Period
from bot.insights.service import InsightsSource
from bot.store.answers import AnswerStore
from bot.store.database import Database
from bot.store.feedback import FeedbackStore
from bot.store.sqlite import SqliteDatabase
from tests.conftest import ROOT
from tests.insights import seed

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Seeded:
    path: Path
    source: InsightsSource


async def seeded_database(path: Path, adviser: Adviser) -> tuple[Database, InsightsSource]:
    db = SqliteDatabase(path)
    await db.open()
    answers, feedback, tickets = AnswerStore(db), FeedbackStore(db), TicketStore(db)
    await seed.seed_answers(answers)
    await seed.seed_feedback(feedback)
    await seed.seed_tickets(db)
    source = InsightsSource(answers, feedback, tickets, adviser.knowledge, FakeClock(NOW),
                            retention_days=30)  # fmt: skip
    return db, source


@pytest.fixture
async def seeded(tmp_path: Path, adviser: Adviser) -> AsyncIterator[Seeded]:
    db, source = await seeded_database(tmp_path / "insights.sqlite3", adviser)
    try:
        yield Seeded(tmp_path / "insights.sqlite3", source)
    finally:
        await db.close()


PERIOD = Period.from_dates(date(2026, 1, 5), date(2026, 1, 25), NOW)


async def report(seeded: Seeded) -> Insights:
    return await seeded.source.report(PERIOD)


async def test_totals_and_the_unsure_share(seeded: Seeded) -> None:
    insights = await report(seeded)
    assert insights.period.label == "5 Jan 2026 to 25 Jan 2026"
    assert insights.questions.text == "68", "the answers of 4 and 26 January are outside"
    assert insights.unsure == "19% (13 of 68)"  # 3 low-confidence OKs and 10 "ask first"
    assert insights.pending_proposals == 0


async def test_weeks_by_verdict_hide_small_counts_and_what_would_give_them_away(
    seeded: Seeded,
) -> None:
    first, second, third = (await report(seeded)).weeks
    assert [w.label for w in (first, second, third)] == [
        "w/c 5 Jan 2026", "w/c 12 Jan 2026", "w/c 19 Jan 2026"
    ]  # fmt: skip
    texts = {v: c.text for v, c in first.verdicts.items()}
    assert texts == {
        Verdict.OK: "12", Verdict.CAUTION: "6", Verdict.NOT_OK: FEWER_THAN,
        Verdict.ASK: "0", Verdict.INFO: HIDDEN, Verdict.OUT_OF_SCOPE: "0",
    }, "2 not OK of 25: the 5 info answers are hidden too, or 25-12-6 gives it away"  # fmt: skip
    assert (first.total.text, first.hidden_sum) == ("25", 7)
    assert first.unsure == f"{FEWER_THAN} of 25"
    assert second.total.text == FEWER_THAN
    assert {c.text for c in second.verdicts.values()} == {FEWER_THAN}
    assert second.hidden_sum is None, "a hidden total is not drawn to scale"
    assert second.unsure == f"{FEWER_THAN} answers in all"
    assert [c.text for c in third.verdicts.values()] == ["20", "10", "0", "10", "0", "0"]
    assert third.unsure == "25% (10 of 40)"


async def test_topics_feedback_and_what_staff_chose_to_send(seeded: Seeded) -> None:
    insights = await report(seeded)
    assert [(t.key, t.questions.text) for t in insights.topics] == [
        (seed.PARTY, "35"),
        (seed.PHOTOS, "16"),
        (seed.GOSSIP, FEWER_THAN),
        ("clause:D4", HIDDEN),  # 2 + 5 + 10 … would give the 2 away
        ("", "10"),
    ]
    assert insights.topics[0].label == "Can I post in support of a political party?"
    assert insights.topics[3].label.startswith("Clause D4: Before posting from an official")
    assert [(f.entry, f.not_helpful.text, f.helpful.text) for f in insights.feedback] == [
        (seed.PARTY, "7", "9"),
        (seed.PHOTOS, FEWER_THAN, "0"),
        (seed.GOSSIP, FEWER_THAN, "0"),
    ]
    [shared] = insights.shared
    assert (shared.question, shared.comment) == (seed.SHARED_QUESTION, seed.SHARED_COMMENT)


async def test_escalations_by_route(seeded: Seeded) -> None:
    manager, dcct, moved = (await report(seeded)).routes
    assert (manager.label, manager.requests.text, manager.answered.text, manager.reminded.text) == (
        "Line manager", "10", "5", "5"
    )  # fmt: skip
    assert manager.median_hours == "3.0 working hours"
    assert (dcct.requests.text, dcct.answered.text, dcct.reminded.text) == (FEWER_THAN,) * 3
    assert dcct.median_hours == "not shown for fewer than 5 answered"
    assert (moved.requests.text, moved.median_hours) == ("0", "not shown for none answered")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, **(env or {})}, timeout=120, check=False,
    )  # fmt: skip


async def test_the_command_line_prints_the_same_figures(seeded: Seeded) -> None:
    env = {"BOT_DATABASE_PATH": str(seeded.path)}
    done = run_cli("insights", "--since", "2026-01-05", "--until", "2026-01-25", env=env)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("Insights: 5 Jan 2026 to 25 Jan 2026\n")
    assert "Questions answered: 68" in out
    assert 'Answered with low confidence or "ask first": 19% (13 of 68)' in out
    week = next(line for line in out.splitlines() if line.startswith("w/c 5 Jan 2026"))
    assert week.split()[4:11] == ["25", "12", "6", "fewer", "than", "5", "0"]
    assert "Can I post in support of a political party?" in out
    assert seed.SHARED_QUESTION in out
    for private in (seed.UNSHARED_QUESTION, "Private question number", "Asker 1"):
        assert private not in out
    assert "Line manager" in out
    assert "3.0 working hours" in out


def test_the_command_line_refuses_a_missing_database_and_bad_dates(tmp_path: Path) -> None:
    missing = run_cli("insights", "--database", str(tmp_path / "none.sqlite3"))
    assert missing.returncode == 2
    assert "no database at" in missing.stderr
    assert not (tmp_path / "none.sqlite3").exists(), "it never creates one"
    bad = run_cli("insights", "--since", "1 January")
    assert bad.returncode == 2
    assert "expected a date like 2026-01-01" in bad.stderr
