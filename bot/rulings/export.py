"""`python -m bot knowledge export`: the rulings in force, written into knowledge/.

So that they can be reviewed and committed like every other entry and survive a
rebuild of the database. The file is rewritten whole: the database's approved rulings,
and the exported ones it does not know of (a database restored from before they were
approved); a ruling rejected or withdrawn in the database is left out.
"""

from __future__ import annotations

from pathlib import Path

from bot.core.rulings import Ruling, render_rulings, rulings_path
from bot.rulings.refresh import rulings_in_force
from bot.store.database import Database
from bot.store.proposals import ProposalStore


async def stored_rulings(db: Database, exported: tuple[Ruling, ...] = ()) -> list[Ruling]:
    """The rulings in force according to `db` (opened, which brings its schema up to
    date as the bot would, and closed again)."""
    await db.open()
    try:
        return await rulings_in_force(ProposalStore(db), exported)
    finally:
        await db.close()


def write_rulings(directory: Path, rulings: list[Ruling]) -> Path:
    """Write knowledge/rulings/rulings.jsonl (removed when there are none)."""
    path = rulings_path(directory)
    if rulings:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_rulings(rulings), encoding="utf-8")
    elif path.exists():
        path.unlink()
    return path
