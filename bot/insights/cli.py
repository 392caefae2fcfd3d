"""`python -m bot insights --since 2026-01-01`: the insights as text, from the database.

Reads the database the server writes (`BOT_DATABASE_URL`, else the SQLite file at
`BOT_DATABASE_PATH`), also while the bot runs. It never creates a SQLite file: a wrong
path is an error.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from pathlib import Path
from typing import TextIO

from bot.clock import SystemClock
from bot.core.types import Knowledge
from bot.escalation.store import TicketStore
from bot.insights.report import Period
from bot.insights.service import InsightsSource
from bot.insights.text import render_text
from bot.settings import Settings
from bot.store.answers import AnswerStore
from bot.store.connect import database_from_settings, sqlite_path
from bot.store.database import Database
from bot.store.feedback import FeedbackStore
from bot.store.proposals import ProposalStore
from bot.store.sqlite import SqliteDatabase


class InsightsCliError(Exception):
    """A bad argument or a missing database; the message says which."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    insights = sub.add_parser("insights", help="the DCCT's insights as text, from the database")
    insights.add_argument("--since", type=_date, help="first day, YYYY-MM-DD (default: 12 weeks)")
    insights.add_argument("--until", type=_date, help="last day, YYYY-MM-DD (default: today)")
    insights.add_argument(
        "--database", type=Path, help="a SQLite file (default: the bot's database)"
    )


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date like 2026-01-01, got {value!r}"
        ) from None


async def report_text(
    db: Database, knowledge: Knowledge, since: date | None, until: date | None,
    retention_days: int,
) -> str:  # fmt: skip
    if since and until and until < since:
        raise InsightsCliError("--until must not be before --since")
    if until and not since:
        raise InsightsCliError("give --since with --until")
    try:
        await db.open()  # brings an older database's schema up to date, as the bot does
        clock = SystemClock()
        source = InsightsSource(AnswerStore(db), FeedbackStore(db), TicketStore(db), knowledge,
                                clock, retention_days=retention_days,
                                proposals=ProposalStore(db))  # fmt: skip
        period = Period.from_dates(since, until, clock.now()) if since else None
        return render_text(await source.report(period))
    finally:
        await db.close()


def run(args: argparse.Namespace, knowledge: Knowledge, settings: Settings, out: TextIO) -> int:
    """The database is the bot's (BOT_DATABASE_URL or BOT_DATABASE_PATH) unless --database
    names a SQLite file."""
    url = settings.store.database_url
    if args.database is not None or not url or sqlite_path(url):
        path = args.database or sqlite_path(url) or settings.store.database_path
        if not path.is_file():
            raise InsightsCliError(
                f"no database at {path} (set BOT_DATABASE_URL, BOT_DATABASE_PATH or --database)"
            )
        db: Database = SqliteDatabase(path)
    else:
        db = database_from_settings(settings, SystemClock())
    text = asyncio.run(
        report_text(db, knowledge, args.since, args.until, settings.store.retention_days)
    )
    out.write(text)
    return 0
