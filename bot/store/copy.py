"""Copy every row from one database to another: `python -m bot store migrate`.

For moving an existing SQLite file to PostgreSQL (deploy/README.md, "Moving the data
to PostgreSQL"), with the bot stopped. Both databases are first brought to the latest
schema; rows keep their ids (signed card buttons name ticket ids), a row already in
the target is left alone, so running it again copies nothing twice; rows the stopped
bot held mid-send go back to the queue. A new table must be listed in `TABLES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.store.database import Database, Dialect, Row, Tx, as_datetime

BATCH = 500


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]  # the first is the key to order by
    times: tuple[str, ...] = ()
    booleans: tuple[str, ...] = ()
    identity: bool = False  # an id the database generates: move its sequence on after


TABLES = (
    Table("tickets", ("id", "data", "status", "asker_user_id", "closed_at", "offer_id"),
          times=("closed_at",), identity=True),
    Table("outbox", ("id", "ticket_id", "kind", "key", "payload", "state", "attempts", "due_at",
                     "last_error", "done_at", "claimed_by", "lease_until"),
          times=("due_at", "done_at", "lease_until"), identity=True),
    Table("feedback", ("card_id", "entry", "verdict", "policy_version", "helpful", "channel",
                       "created_at", "comment", "question"),
          times=("created_at",), booleans=("helpful",)),
    Table("welcomes", ("conversation", "seen_at"), times=("seen_at",)),
    Table("proposals", ("id", "ticket_id", "status", "question", "verdict", "clauses", "route",
                        "answer", "proposed_by", "proposer_aad", "proposed_at",
                        "policy_version", "decided_by", "decider_aad", "decided_at"),
          times=("proposed_at", "decided_at"), identity=True),
    Table("answer_events", ("id", "answered_at", "verdict", "entry", "clauses", "band",
                            "policy_version", "channel"),
          times=("answered_at",), identity=True),
)  # fmt: skip


def _convert(table: Table, row: Row) -> list[Any]:
    values = dict(row)
    for name in table.times:
        values[name] = as_datetime(values[name])
    for name in table.booleans:
        values[name] = bool(values[name])
    if table.name == "outbox" and values["state"] == "sending":
        # The bot is stopped: whatever it held mid-send is to be sent again.
        values.update(state="pending", claimed_by=None, lease_until=None)
    return [values[c] for c in table.columns]


async def copy_database(source: Database, target: Database) -> dict[str, tuple[int, int]]:
    """Copy every table; return {table: (rows read, rows written)}."""
    await source.open()
    await target.open()
    counts: dict[str, tuple[int, int]] = {}
    for table in TABLES:
        columns = ", ".join(table.columns)
        marks = ", ".join("?" * len(table.columns))

        async def read(tx: Tx, table: Table = table, columns: str = columns) -> list[Row]:
            return await tx.fetch(f"SELECT {columns} FROM {table.name} ORDER BY {table.columns[0]}")  # noqa: S608

        rows = await source.read(read)
        written = 0
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]

            async def write(tx: Tx, table: Table = table, batch: list[Row] = batch,
                            columns: str = columns, marks: str = marks) -> int:  # fmt: skip
                total = 0
                for row in batch:
                    total += await tx.execute(
                        f"INSERT INTO {table.name} ({columns}) VALUES ({marks}) "  # noqa: S608
                        "ON CONFLICT DO NOTHING",
                        _convert(table, row),
                    )
                return total

            written += await target.transact(write)
        if table.identity and target.dialect is Dialect.POSTGRES:

            async def advance(tx: Tx, name: str = table.name) -> None:
                # Ids given explicitly do not move the sequence: the next ticket must
                # not collide with a copied one.
                await tx.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                    f"COALESCE(MAX(id), 0) + 1, false) FROM {name}"
                )

            await target.transact(advance)
        counts[table.name] = (len(rows), written)
    return counts
